// Package stream carries the events of a streaming prediction (tokens and the like) from the
// activity that produces them to the API process that writes them to the client. Tokens never
// go through workflow history one by one.
package stream

import (
	"context"
	"encoding/json"
	"sync"
)

// Event is one SSE event as Flowise frames it: {"event": Name, "data": Data}.
type Event struct {
	Seq  int64           `json:"seq"`
	Name string          `json:"event"`
	Data json.RawMessage `json:"data"`
	// Attempt is the activity attempt that published the event: a retried node streams its
	// answer again, and the reader uses this to send the client each token only once.
	Attempt int32 `json:"attempt,omitempty"`
}

// Publisher is what activities see.
type Publisher interface {
	// Publish delivers an event to the subscriber of topic, if any. It never blocks on a slow
	// reader: a node must not stall because a client reads slowly.
	Publish(ctx context.Context, topic string, attempt int32, name string, data any) error
}

// Subscription is a reader's side of one topic.
type Subscription interface {
	// Events is signalled when new events may be available; read them with Drain.
	Ready() <-chan struct{}
	// Drain returns the events queued since the last call, in publish order.
	Drain() []Event
	Close()
}

// Broker connects publishers and subscribers, and carries aborts (see abort.go).
type Broker interface {
	Publisher
	Subscribe(topic string) Subscription
	Aborter
	AbortWatcher
}

// Local is the in-process broker used when the API and the worker share a process.
type Local struct {
	mu   sync.Mutex
	subs map[string]*localSub
	watchers
}

// NewLocal returns an empty in-process broker.
func NewLocal() *Local { return &Local{subs: map[string]*localSub{}} }

type localSub struct {
	broker *Local
	topic  string
	mu     sync.Mutex
	queue  []Event
	seq    int64
	ready  chan struct{}
}

// Publish appends to the subscriber's queue; events for a topic nobody reads are dropped.
func (b *Local) Publish(_ context.Context, topic string, attempt int32, name string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	b.mu.Lock()
	s := b.subs[topic]
	b.mu.Unlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	s.seq++
	s.queue = append(s.queue, Event{Seq: s.seq, Name: name, Data: raw, Attempt: attempt})
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default: // a wake-up is already pending
	}
	return nil
}

// Subscribe starts buffering events of topic. Subscribe before starting the run, so that no
// early event is missed.
func (b *Local) Subscribe(topic string) Subscription {
	s := &localSub{broker: b, topic: topic, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[topic] = s
	b.mu.Unlock()
	return s
}

func (s *localSub) Ready() <-chan struct{} { return s.ready }

func (s *localSub) Drain() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.queue
	s.queue = nil
	return out
}

func (s *localSub) Close() {
	s.broker.mu.Lock()
	if s.broker.subs[s.topic] == s {
		delete(s.broker.subs, s.topic)
	}
	s.broker.mu.Unlock()
}

// Abort ends the watches of runID in this process, where its calls run.
func (b *Local) Abort(_ context.Context, runID string) error {
	b.fire(runID)
	return nil
}

// Subscribers reports how many topics are being read; tests use it to prove nothing leaks.
func (b *Local) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
