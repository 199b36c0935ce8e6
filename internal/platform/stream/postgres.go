package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// notifyChannel is the one LISTEN channel of all streams; the payload names the topic.
// abortChannel carries aborts; the payload names the run (its run id).
const (
	notifyChannel = "flowgate_stream"
	abortChannel  = "flowgate_abort"
)

// Postgres is the broker for processes that share a PostgreSQL database: a worker on one
// machine publishes, the API process holding the client's connection reads. Events are rows
// of flowgate_stream_event (so none is lost and a reconnecting client can resume after the
// last id it saw); NOTIFY only wakes the readers. Each process holds one LISTEN connection,
// whatever the number of open streams.
type Postgres struct {
	pool      *pgxpool.Pool
	log       *slog.Logger
	retention time.Duration

	mu     sync.Mutex
	subs   map[string]map[*pgSub]struct{}
	reader bool // listens to streams (an API process); every process listens to aborts
	watchers

	stop context.CancelFunc
	done chan struct{}
}

// NewPostgres connects to dsn. A process that reads streams (an API process, reader) listens
// to their notifications; one that only publishes (a worker) does not, so it is not sent every
// stream's notifications. Every process listens to aborts. The table comes from the models
// migrations.
func NewPostgres(ctx context.Context, dsn string, reader bool, log *slog.Logger) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("stream broker: parse database URL: %w", err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("stream broker: connect: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	p := &Postgres{pool: pool, log: log, retention: time.Hour, subs: map[string]map[*pgSub]struct{}{}, reader: reader,
		stop: stop, done: make(chan struct{})}
	go p.listen(runCtx)
	return p, nil
}

// Close stops listening and closes the connections.
func (p *Postgres) Close() {
	p.stop()
	<-p.done
	p.pool.Close()
}

// opTimeout bounds every statement, so a database outage fails a publish or a read instead of
// stalling a node or a client.
const opTimeout = 5 * time.Second

// Publish stores the event and wakes the readers of topic, in one statement.
func (p *Postgres) Publish(ctx context.Context, topic string, attempt int32, name string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("publish stream event: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit
	// Readers move past the highest id they have seen, so ids of one topic must become
	// visible in id order: publishers of a topic take turns until they commit.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, topic); err != nil {
		return fmt.Errorf("publish stream event: %w", err)
	}
	_, err = tx.Exec(ctx, `WITH e AS (
		INSERT INTO flowgate_stream_event (topic, attempt, name, data, created_at) VALUES ($1, $2, $3, $4, now()) RETURNING id
	) SELECT pg_notify($5, $1) FROM e`, topic, attempt, name, string(raw), notifyChannel)
	if err != nil {
		return fmt.Errorf("publish stream event: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("publish stream event: %w", err)
	}
	return nil
}

// Abort notifies every process of runID's abort; the one running its calls stops them.
func (p *Postgres) Abort(ctx context.Context, runID string) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := p.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, abortChannel, runID); err != nil {
		return fmt.Errorf("send abort: %w", err)
	}
	return nil
}

// Subscribe reads topic from its first event.
func (p *Postgres) Subscribe(topic string) Subscription { return p.SubscribeAfter(topic, 0) }

// SubscribeAfter reads the events of topic whose id is above after: a client's Last-Event-ID.
func (p *Postgres) SubscribeAfter(topic string, after int64) Subscription {
	s := &pgSub{broker: p, topic: topic, last: after, ready: make(chan struct{}, 1)}
	p.mu.Lock()
	if p.subs[topic] == nil {
		p.subs[topic] = map[*pgSub]struct{}{}
	}
	p.subs[topic][s] = struct{}{}
	p.mu.Unlock()
	s.wake() // events may already be stored (a resume, or a fast first token)
	return s
}

// Subscribers reports open subscriptions; tests use it to prove nothing leaks.
func (p *Postgres) Subscribers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, set := range p.subs {
		n += len(set)
	}
	return n
}

// listen holds the LISTEN connection, reconnecting after failures. After every (re)connect it
// wakes all readers, since notifications sent while disconnected are gone but the rows are not.
func (p *Postgres) listen(ctx context.Context) {
	defer close(p.done)
	cleanup := time.NewTicker(5 * time.Minute)
	defer cleanup.Stop()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := p.listenOnce(ctx, cleanup.C)
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("stream broker lost its database connection; reconnecting", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (p *Postgres) listenOnce(ctx context.Context, cleanup <-chan time.Time) error {
	acquireCtx, cancel := context.WithTimeout(ctx, opTimeout)
	pooled, err := p.pool.Acquire(acquireCtx)
	cancel()
	if err != nil {
		return err
	}
	// The connection will be in LISTEN state; take it out of the pool for good.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+abortChannel); err != nil {
		return err
	}
	if p.reader {
		if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			return err
		}
	}
	p.wakeAll()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil && n.Channel == abortChannel:
			p.fire(n.Payload)
		case err == nil:
			p.wakeTopic(n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Idle: prove the connection is alive, and take the chance to tidy up.
			pingCtx, cancel := context.WithTimeout(ctx, opTimeout)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
		select {
		case <-cleanup:
			if p.reader { // the stream's readers tidy it
				p.deleteOld(ctx)
			}
		default:
		}
	}
}

// deleteOld drops events past retention: long enough for any client to reconnect.
func (p *Postgres) deleteOld(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err := p.pool.Exec(ctx, `DELETE FROM flowgate_stream_event WHERE created_at < now() - make_interval(secs => $1)`, p.retention.Seconds())
	if err != nil {
		p.log.Warn("delete old stream events", "error", err)
	}
}

func (p *Postgres) wakeTopic(topic string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.subs[topic] {
		s.wake()
	}
}

func (p *Postgres) wakeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, set := range p.subs {
		for s := range set {
			s.wake()
		}
	}
}

type pgSub struct {
	broker *Postgres
	topic  string
	ready  chan struct{}
	mu     sync.Mutex
	last   int64
}

func (s *pgSub) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *pgSub) Ready() <-chan struct{} { return s.ready }

// Drain reads the events stored since the last one returned. A failed read returns nothing and
// re-arms Ready, so the caller tries again on its next wake-up instead of losing events.
func (s *pgSub) Drain() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := s.broker.pool.Query(ctx,
		`SELECT id, attempt, name, data FROM flowgate_stream_event WHERE topic = $1 AND id > $2 ORDER BY id`, s.topic, s.last)
	if err != nil {
		s.broker.log.Warn("read stream events", "topic", s.topic, "error", err)
		time.AfterFunc(500*time.Millisecond, s.wake) // try again, as promised above
		return nil
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var data string
		if err := rows.Scan(&ev.Seq, &ev.Attempt, &ev.Name, &data); err != nil {
			s.broker.log.Warn("read stream events", "topic", s.topic, "error", err)
			return out
		}
		ev.Data = json.RawMessage(data)
		s.last = ev.Seq
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		s.broker.log.Warn("read stream events", "topic", s.topic, "error", err)
	}
	return out
}

func (s *pgSub) Close() {
	p := s.broker
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.subs[s.topic], s)
	if len(p.subs[s.topic]) == 0 {
		delete(p.subs, s.topic)
	}
}
