package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/workflows/node"
)

// workStatuses are the answers to work that failed for the caller's reason.
var workStatuses = map[string]int{
	node.ErrInvalid:             http.StatusBadRequest,
	node.ErrNotFound:            http.StatusNotFound,
	node.ErrProvider:            http.StatusBadGateway,
	node.ErrProviderUnavailable: http.StatusBadGateway,
}

// workRuns runs work that is not a prediction on the worker tier, for a request that waits
// for its answer: document-store upserts and searches.
type workRuns struct {
	temporal client.Client
	cfg      Config
	log      *slog.Logger
	// metrics counts upserts in Flowise's vector_upserted (nil: off).
	metrics *telemetry.Metrics
}

// do runs work (its name in messages) as a run of workflowType with input in under id, for at
// most timeout, and waits for its result into out. On failure it answers with the status the
// error's type calls for; it reports whether the run succeeded. A client that leaves does not
// stop the run.
func (w *workRuns) do(c *gin.Context, work, workflowType, id string, timeout time.Duration, in, out any) bool {
	ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
	defer cancel()
	run, err := w.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: w.cfg.TaskQueue, WorkflowExecutionTimeout: timeout,
	}, workflowType, in)
	if err == nil {
		err = run.Get(ctx, out)
	}
	if err == nil {
		return true
	}
	status, msg := runFailure(err, work, timeout, workStatuses, w.log)
	fail(c, status, "%s", msg)
	return false
}
