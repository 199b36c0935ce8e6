package nodekit

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

func TestWillRetry(t *testing.T) {
	ctx := context.Background()
	plain := errors.New("provider down")
	typed := temporal.NewApplicationError("bad flow", "FlowError")
	policy := &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{"FlowError"}}
	cases := []struct {
		name string
		info activity.Info
		err  error
		want bool
	}{
		{"success", activity.Info{Attempt: 1}, nil, false},
		{"server's default policy", activity.Info{Attempt: 7}, plain, true},
		{"attempts left", activity.Info{Attempt: 2, RetryPolicy: policy}, plain, true},
		{"last attempt", activity.Info{Attempt: 3, RetryPolicy: policy}, plain, false},
		{"non-retryable type", activity.Info{Attempt: 1, RetryPolicy: policy}, typed, false},
		{"non-retryable error", activity.Info{Attempt: 1}, temporal.NewNonRetryableApplicationError("no", "X", nil), false},
		{"unlimited attempts", activity.Info{Attempt: 50, RetryPolicy: &temporal.RetryPolicy{}}, plain, true},
	}
	for _, c := range cases {
		require.Equal(t, c.want, willRetry(ctx, c.info, c.err), c.name)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.False(t, willRetry(cancelled, activity.Info{Attempt: 1}, plain), "an aborted attempt")
}
