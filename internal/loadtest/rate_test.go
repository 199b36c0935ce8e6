package loadtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateFollowsTheSchedule(t *testing.T) {
	srv := newFakeFlowise(t, answerJSON)
	start := time.Now()
	rep, err := Run(context.Background(), Options{Target: srv.URL, FlowID: "flow-1", Rate: 200, Duration: 500 * time.Millisecond})
	require.NoError(t, err)
	// 200/s for 0.5 s: requests are due at 0, 5, …, 495 ms.
	require.Len(t, srv.received(), 100, "the server saw exactly the scheduled requests")
	require.Equal(t, 100, rep.Requests)
	require.Equal(t, 100, rep.Successes)
	require.GreaterOrEqual(t, time.Since(start), 495*time.Millisecond, "the last one was not sent early")
	require.Equal(t, "open", rep.Model)
	require.Equal(t, 200.0, rep.Rate)
}

func TestRateSendsWithoutWaitingForAnswers(t *testing.T) {
	arrived := make(chan struct{}, 20)
	release := make(chan struct{})
	srv := newFakeFlowise(t, func(w http.ResponseWriter, r *http.Request, i int) {
		arrived <- struct{}{}
		<-release // nothing is answered until every request has arrived
		answerJSON(w, r, i)
	})
	done := make(chan *Report, 1)
	go func() {
		rep, err := Run(context.Background(), Options{Target: srv.URL, FlowID: "flow-1", Rate: 1000, Count: 20})
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	for i := range 20 {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			close(release)
			t.Fatalf("only %d requests arrived while none was answered", i)
		}
	}
	close(release)
	select {
	case rep := <-done:
		require.Equal(t, 20, rep.Successes)
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not end")
	}
}

func TestRateDropsRequestsBeyondTheInFlightCap(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeFlowise(t, func(w http.ResponseWriter, r *http.Request, i int) {
		<-release
		answerJSON(w, r, i)
	})
	o, err := Options{Target: srv.URL, FlowID: "flow-1", Rate: 1e6, MaxInFlight: 3, Count: 10}.withDefaults()
	require.NoError(t, err)
	r := newRunner(o)
	// Answers are held until the last request has been scheduled, so the first three occupy
	// every slot for the whole schedule.
	r.afterTick = func(k int) {
		if k == 9 {
			close(release)
		}
	}
	rep, err := r.run(context.Background())
	require.NoError(t, err)
	require.Len(t, srv.received(), 3)
	require.Equal(t, 10, rep.Requests)
	require.Equal(t, 3, rep.Successes)
	require.Equal(t, map[string]int{ErrDropped: 7}, rep.Errors)
}
