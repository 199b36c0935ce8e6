package nodekit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestKeepAliveStopsALocalCallOnItsRunsAbort: a call running as a local activity (a chatflow's
// model call inside its workflow task) that its run's abort reaches stops at once and fails
// with the Aborted error the workflow turns into a cancellation; a call of another run goes on.
func TestKeepAliveStopsALocalCallOnItsRunsAbort(t *testing.T) {
	// call is a 2 s call that, with abortRun set, has the API abort that run ("this": its own)
	// while it runs.
	call := func(broker *stream.Local) func(context.Context, string) (string, error) {
		return KeepAlive(broker, func(ctx context.Context, abortRun string) (string, error) {
			if abortRun == "this" {
				abortRun = activity.GetInfo(ctx).WorkflowExecution.RunID
			}
			require.NoError(t, broker.Abort(context.Background(), abortRun))
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(2 * time.Second):
				return "answered", nil
			}
		})
	}
	var suite testsuite.WorkflowTestSuite
	start := time.Now()
	_, err := suite.NewTestActivityEnvironment().ExecuteLocalActivity(call(stream.NewLocal()), "this")
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	require.Equal(t, node.ErrAborted, app.Type())
	require.True(t, app.NonRetryable())
	require.Less(t, time.Since(start), time.Second, "stopped at once, not when the call would have ended")

	val, err := suite.NewTestActivityEnvironment().ExecuteLocalActivity(call(stream.NewLocal()), "another-run")
	require.NoError(t, err)
	var out string
	require.NoError(t, val.Get(&out))
	require.Equal(t, "answered", out)
}
