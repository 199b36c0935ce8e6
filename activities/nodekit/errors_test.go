package nodekit

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/workflows/node"
)

// What Temporal records is what the workflow and its retry policy see: an annotated flow
// error must still be a non-retryable flow error there, with its message prefixed.
func TestAnnotateKeepsTheFailureType(t *testing.T) {
	conv := temporal.GetDefaultFailureConverter()
	cases := []struct {
		name      string
		err       error
		wantType  string
		retryable bool
	}{
		{"flow error", FlowError("the URL is empty"), node.ErrFlow, false},
		{"retryable application error", temporal.NewApplicationError("overloaded", "ProviderUnavailable"), "ProviderUnavailable", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := conv.ErrorToFailure(Annotate(c.err, "%s", "httpAgentflow_0")).GetApplicationFailureInfo()
			require.Equal(t, c.wantType, f.GetType())
			require.Equal(t, !c.retryable, f.GetNonRetryable())
			var app *temporal.ApplicationError
			require.ErrorAs(t, Annotate(c.err, "node"), &app)
			require.Contains(t, app.Message(), "node: ")
		})
	}
	plain := errors.New("connection reset")
	require.ErrorIs(t, Annotate(plain, "GET %s", "x"), plain, "other errors wrap as usual")
	require.Equal(t, "GET x: connection reset", Annotate(plain, "GET %s", "x").Error())
}
