package api

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// fakeRun is a run that ends when its result is sent, or never.
type fakeRun struct {
	client.WorkflowRun
	result chan workflows.PredictionResult
	gets   atomic.Int32 // calls to Get: watches of the run's end
}

func newFakeRun() *fakeRun { return &fakeRun{result: make(chan workflows.PredictionResult, 1)} }

func (r *fakeRun) Get(ctx context.Context, valuePtr any) error {
	r.gets.Add(1)
	select {
	case res := <-r.result:
		*valuePtr.(*workflows.PredictionResult) = res
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recorder is an answerer that notes what await hands it.
type recorder struct {
	got []string
	// answers tells whether a saved answer answers the client.
	answers bool
	// onSaved and onIdle let a test move the run on.
	onSaved, onIdle func()
}

func (r *recorder) event(ev stream.Event) error {
	r.got = append(r.got, "event "+ev.Name)
	return nil
}

func (r *recorder) saved(_ context.Context, res workflows.PredictionResult) bool {
	r.got = append(r.got, "saved "+res.Text)
	if r.onSaved != nil {
		r.onSaved()
	}
	return r.answers
}

func (r *recorder) ended(res workflows.PredictionResult, err error) {
	if err != nil {
		r.got = append(r.got, "failed "+err.Error())
		return
	}
	r.got = append(r.got, "ended "+res.Text)
}

func (r *recorder) idle() error {
	r.got = append(r.got, "idle")
	if r.onIdle != nil {
		r.onIdle()
	}
	return nil
}

// awaitTest is one turn over a local broker.
type awaitTest struct {
	t      *testing.T
	broker *stream.Local
	sub    stream.Subscription
	run    *fakeRun
	c      *gin.Context
	cancel context.CancelFunc
	// watchEndAfter is the turn's; an hour unless a test needs the run's end watched.
	watchEndAfter time.Duration
}

func newAwaitTest(t *testing.T) *awaitTest {
	broker := stream.NewLocal()
	sub := broker.Subscribe("topic")
	t.Cleanup(sub.Close)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	// The client's deadline ends a wait that never ends by itself, as the client leaving.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	c.Request = httptest.NewRequestWithContext(ctx, "POST", "/api/v1/prediction/x", nil)
	return &awaitTest{t: t, broker: broker, sub: sub, run: newFakeRun(), c: c, cancel: cancel, watchEndAfter: time.Hour}
}

func (a *awaitTest) publish(name string, data any) {
	require.NoError(a.t, a.broker.Publish(context.Background(), "topic", 0, name, data))
}

func (a *awaitTest) await(heartbeat time.Duration, replay []stream.Event, r *recorder) {
	await(a.c, turn{sub: a.sub, run: a.run, replay: replay, timeout: time.Hour, heartbeat: heartbeat,
		watchEndAfter: a.watchEndAfter}, r)
}

// The saved answer is the client's as soon as it is published, while the workflow is still
// closing; events published with it go first, and the run's own description never.
func TestAwaitAnswersFromTheSavedResult(t *testing.T) {
	a := newAwaitTest(t)
	a.publish("token", "Hel")
	a.publish(node.RunEvent, runInfo{WorkflowID: "w"})
	a.publish(node.ResultEvent, node.Result{Text: "Hello"})
	a.publish("token", "lo")
	r := &recorder{answers: true}
	a.await(time.Hour, nil, r)
	require.Equal(t, []string{"event token", "event token", "saved Hello"}, r.got)
	require.Zero(t, a.run.gets.Load(), "a turn answered from its saved answer never long-polls Temporal for the run's end")
}

// Before the delay, the wait does not watch the run's end: a run that has ended (here, at
// once) is not seen, and the saved answer published twenty heartbeats later answers.
func TestAwaitDoesNotWatchTheRunsEndBeforeTheDelay(t *testing.T) {
	a := newAwaitTest(t)
	a.watchEndAfter = time.Hour
	a.run.result <- workflows.PredictionResult{Text: "done"}
	r := &recorder{answers: true}
	idles := 0
	r.onIdle = func() {
		if idles++; idles == 20 {
			a.publish(node.ResultEvent, node.Result{Text: "Hello"})
		}
	}
	a.await(time.Millisecond, nil, r)
	require.Equal(t, "saved Hello", r.got[len(r.got)-1])
	require.NotContains(t, r.got, "ended done")
	require.Zero(t, a.run.gets.Load())
}

// A turn whose saved answer does not come watches the run's end after the delay, and answers
// from it.
func TestAwaitWatchesTheRunsEndAfterTheDelay(t *testing.T) {
	a := newAwaitTest(t)
	a.watchEndAfter = time.Millisecond
	a.run.result <- workflows.PredictionResult{Text: "done"}
	r := &recorder{}
	a.await(time.Hour, nil, r)
	require.Equal(t, []string{"ended done"}, r.got)
	require.Equal(t, int32(1), a.run.gets.Load())
}

// A saved answer that does not answer the client (an agentflow's last turn) leaves the
// answer to the run's end, after the events published before it.
func TestAwaitEndsWithTheRunWhenTheSavedAnswerIsNotTheAnswer(t *testing.T) {
	a := newAwaitTest(t)
	a.publish(node.ResultEvent, node.Result{Text: "saved"})
	r := &recorder{onSaved: func() {
		a.publish("token", "last")
		a.run.result <- workflows.PredictionResult{Text: "done"}
	}}
	a.await(time.Hour, nil, r)
	require.Equal(t, []string{"saved saved", "event token", "ended done"}, r.got)
}

// A resumed stream whose backlog holds the saved answer is answered from the backlog.
func TestAwaitAnswersFromTheReplay(t *testing.T) {
	a := newAwaitTest(t)
	replay := []stream.Event{
		{Seq: 1, Name: "token", Data: []byte(`"Hi"`)},
		{Seq: 2, Name: node.ResultEvent, Data: []byte(`{"text":"Hi"}`)},
	}
	r := &recorder{answers: true}
	a.await(time.Hour, replay, r)
	require.Equal(t, []string{"event token", "saved Hi"}, r.got)
}

// An idle stream gets a chance to send a heartbeat.
func TestAwaitCallsIdleWhenNothingArrives(t *testing.T) {
	a := newAwaitTest(t)
	a.watchEndAfter = 0
	r := &recorder{}
	r.onIdle = func() {
		r.onIdle = nil
		a.run.result <- workflows.PredictionResult{Text: "done"}
	}
	a.await(time.Millisecond, nil, r)
	require.Equal(t, "idle", r.got[0])
	require.Equal(t, "ended done", r.got[len(r.got)-1])
}

// The client leaving ends the wait without an answer, and is logged as 499.
func TestAwaitStopsWhenTheClientLeaves(t *testing.T) {
	for _, watchEndAfter := range []time.Duration{0, time.Hour} {
		a := newAwaitTest(t)
		a.watchEndAfter = watchEndAfter
		a.cancel()
		r := &recorder{}
		a.await(time.Hour, nil, r)
		require.Empty(t, r.got)
		require.Equal(t, statusClientClosed, a.c.Writer.Status())
	}
}

// A run the request started is watched after the delay; a run a resend attached to, whose
// saved answer may be gone, at once.
func TestChatflowTurnsWatchAResendsRunAtOnce(t *testing.T) {
	p := &predictions{cfg: Config{PredictionTimeout: time.Minute, HeartbeatInterval: time.Second}}
	require.Equal(t, endWatchDelay, p.chatflowTurn(startedRun{}).watchEndAfter)
	require.Zero(t, p.chatflowTurn(startedRun{attached: &currentRun{}}).watchEndAfter)
	require.Zero(t, p.turn(nil, nil).watchEndAfter)
}
