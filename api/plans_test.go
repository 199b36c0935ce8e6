package api

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/models"
)

// A saved flow is compiled once per version, whatever it compiles to: a broken flow's refusal
// is kept like a plan, so anonymous requests for it cost a map lookup, and requests that
// arrive together wait for the one compile in progress.
func TestCompiledFlowsCompileEachVersionOnce(t *testing.T) {
	var compiles atomic.Int32
	release := make(chan struct{})
	refusal := errors.New("flow refused")
	flows := newCompiledFlows(8, func(flowData string) (string, error) {
		compiles.Add(1)
		<-release
		if flowData == "broken" {
			return "", refusal
		}
		return "plan of " + flowData, nil
	})
	v1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	broken := &models.ChatFlow{ID: "f", FlowData: "broken", UpdatedDate: v1}

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := flows.get(context.Background(), broken)
			require.ErrorIs(t, err, refusal)
		})
	}
	close(release)
	wg.Wait()
	_, err := flows.get(context.Background(), broken)
	require.ErrorIs(t, err, refusal)
	require.EqualValues(t, 1, compiles.Load(), "one compile for 21 requests")

	fixed := &models.ChatFlow{ID: "f", FlowData: "fixed", UpdatedDate: v1.Add(time.Second)}
	plan, err := flows.get(context.Background(), fixed)
	require.NoError(t, err)
	require.Equal(t, "plan of fixed", plan)
	require.EqualValues(t, 2, compiles.Load(), "an edited flow is compiled again")
}

// A request waiting for another's compile gives up when its own context ends.
func TestCompiledFlowsWaitEndsWithTheRequest(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	flows := newCompiledFlows(8, func(string) (string, error) { <-release; return "", nil })
	f := &models.ChatFlow{ID: "f", FlowData: "x"}
	go func() { _, _ = flows.get(context.Background(), f) }()
	require.Eventually(t, func() bool {
		flows.mu.Lock()
		defer flows.mu.Unlock()
		return len(flows.entries) == 1
	}, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := flows.get(ctx, f)
	require.ErrorIs(t, err, context.Canceled)
}
