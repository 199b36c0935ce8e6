package loadtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRunJSONCountsOnlyMeasuredRequests(t *testing.T) {
	srv := newFakeFlowise(t, answerJSON)
	rep, err := Run(context.Background(), Options{
		Target: srv.URL, FlowID: "flow-1", APIKey: "k-1", Concurrency: 4, Count: 20, WarmupCount: 5,
	})
	require.NoError(t, err)

	got := srv.received()
	require.Len(t, got, 25, "warm-up requests are sent")
	chats := map[string]bool{}
	for _, b := range got {
		require.Equal(t, "hello", b.Question)
		require.False(t, b.Streaming)
		chats[b.ChatID] = true
	}
	require.Len(t, chats, 25, "every request is its own chat")
	require.Equal(t, "Bearer k-1", srv.headers[0].Get("Authorization"))

	require.Equal(t, "closed", rep.Model)
	require.Equal(t, 5, rep.Warmup)
	require.Equal(t, 20, rep.Requests)
	require.Equal(t, 20, rep.Successes)
	require.Zero(t, rep.ErrorCount())
	require.Equal(t, 20, rep.Latency.N)
	require.Greater(t, rep.Throughput, 0.0)
	require.Greater(t, rep.Elapsed, time.Duration(0))
	require.LessOrEqual(t, rep.Latency.P50, rep.Latency.P99)
	require.Nil(t, rep.TTFT, "no token times without streaming")
}

func TestRunSameChat(t *testing.T) {
	srv := newFakeFlowise(t, answerJSON)
	_, err := Run(context.Background(), Options{Target: srv.URL, FlowID: "flow-1", Concurrency: 1, Count: 3, SameChat: true, Question: "q"})
	require.NoError(t, err)
	got := srv.received()
	require.Len(t, got, 3)
	require.Equal(t, got[0].ChatID, got[2].ChatID)
	require.Equal(t, "q", got[1].Question)
}

func TestRunCountsErrorsByKind(t *testing.T) {
	srv := newFakeFlowise(t, func(w http.ResponseWriter, r *http.Request, i int) {
		switch i % 5 {
		case 0:
			answerJSON(w, r, i)
		case 1:
			http.Error(w, `{"statusCode":503,"message":"busy"}`, http.StatusServiceUnavailable)
		case 2:
			_, _ = w.Write([]byte("<html>not json</html>"))
		case 3:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // the connection drops before any answer
			}
		case 4:
			<-r.Context().Done() // never answers: the client's deadline ends it
		}
	})
	rep, err := Run(context.Background(), Options{
		Target: srv.URL, FlowID: "flow-1", Concurrency: 5, Count: 50, Timeout: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	require.Len(t, srv.received(), 50)
	require.Equal(t, 50, rep.Requests)
	require.Equal(t, 10, rep.Successes)
	require.Equal(t, map[string]int{"http_503": 10, ErrBadBody: 10, ErrTransport: 10, ErrTimeout: 10}, rep.Errors)
	require.Contains(t, rep.ErrorExamples["http_503"], "busy")
	require.Equal(t, 10, rep.Latency.N, "latency covers successes only")
}

func TestRunStreamingMeasuresTokens(t *testing.T) {
	srv := newFakeFlowise(t, answerSSE)
	rep, err := Run(context.Background(), Options{Target: srv.URL, FlowID: "flow-1", Concurrency: 2, Count: 10, Streaming: true})
	require.NoError(t, err)
	for _, b := range srv.received() {
		require.True(t, b.Streaming)
	}
	require.Equal(t, 10, rep.Successes)
	require.NotNil(t, rep.TTFT)
	require.Equal(t, 10, rep.TTFT.N)
	require.Equal(t, 10, rep.TTLT.N)

	// One request in detail: first token, last token, end, in that order.
	o, err := Options{Target: srv.URL, FlowID: "flow-1", Concurrency: 1, Count: 1, Streaming: true}.withDefaults()
	require.NoError(t, err)
	out := newRunner(o).predict(context.Background(), ticket{index: 7})
	require.Empty(t, out.kind, out.detail)
	require.Greater(t, out.ttft, time.Duration(0))
	require.LessOrEqual(t, out.ttft, out.ttlt)
	require.LessOrEqual(t, out.ttlt, out.latency())
}

func TestRunStreamingErrors(t *testing.T) {
	srv := newFakeFlowise(t, func(w http.ResponseWriter, r *http.Request, i int) {
		switch i % 4 {
		case 0:
			answerSSE(w, r, i)
		case 1:
			writeSSE(w, "start", "token", "error", "end") // Flowise's failure: status stays 200
		case 2:
			writeSSE(w, "start", "token") // cut off before end
		case 3:
			answerJSON(w, r, i)
		}
	})
	rep, err := Run(context.Background(), Options{Target: srv.URL, FlowID: "flow-1", Concurrency: 3, Count: 12, Streaming: true})
	require.NoError(t, err)
	require.Equal(t, 3, rep.Successes)
	require.Equal(t, map[string]int{ErrSSE: 3, ErrIncompleteStream: 3, ErrNotStreamed: 3}, rep.Errors)
	require.Equal(t, "model failed", rep.ErrorExamples[ErrSSE])
}

func TestRunStopsOnCancelWithPartialReport(t *testing.T) {
	arrived := make(chan struct{}, 3)
	srv := newFakeFlowise(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Run(ctx, Options{Target: srv.URL, FlowID: "flow-1", Concurrency: 3, Duration: time.Hour})
		done <- result{rep, err}
	}()
	for range 3 {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the requests did not arrive")
		}
	}
	cancel()
	select {
	case res := <-done:
		require.ErrorIs(t, res.err, context.Canceled)
		require.Equal(t, map[string]int{ErrCanceled: 3}, res.rep.Errors)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	ctx := context.Background()
	_, err := Run(ctx, Options{Target: "http://127.0.0.1:1", FlowID: "f", Concurrency: 1})
	require.ErrorContains(t, err, "unbounded")
	_, err = Run(ctx, Options{Target: "http://127.0.0.1:1", FlowID: "f", Count: 1})
	require.ErrorContains(t, err, "concurrency")
	_, err = Run(ctx, Options{Target: "http://127.0.0.1:1", FlowID: "f", Concurrency: 1, Count: 1, WarmupCount: 1, WarmupDuration: time.Second})
	require.ErrorContains(t, err, "not both")
	_, err = Run(ctx, Options{Target: "http://127.0.0.1:1", Concurrency: 1, Count: 1})
	require.ErrorContains(t, err, "chatflow id")
}
