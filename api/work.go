package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/workflows/node"
)

// workRuns runs work that is not a prediction on the worker tier, for a request that waits
// for its answer: document-store upserts and searches.
type workRuns struct {
	temporal client.Client
	cfg      Config
	log      *slog.Logger
}

// do runs workflowType with in under id, waits for its result into out and, on failure,
// answers with the status its error type calls for; it reports whether the run succeeded.
func (w *workRuns) do(c *gin.Context, workflowType, id string, in, out any) bool {
	ctx, cancel := context.WithTimeout(c.Request.Context(), w.cfg.PredictionTimeout)
	defer cancel()
	run, err := w.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: w.cfg.TaskQueue, WorkflowExecutionTimeout: w.cfg.PredictionTimeout,
	}, workflowType, in)
	if err == nil {
		err = run.Get(ctx, out)
	}
	if err == nil {
		return true
	}
	var app *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	switch {
	case errors.As(err, &app):
		status := http.StatusInternalServerError
		switch app.Type() {
		case node.ErrInvalid:
			status = http.StatusBadRequest
		case node.ErrNotFound:
			status = http.StatusNotFound
		case node.ErrProvider, "ProviderUnavailable":
			status = http.StatusBadGateway
		}
		fail(c, status, "%s", app.Message())
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &timeout):
		fail(c, http.StatusGatewayTimeout, "The work did not finish within %s", w.cfg.PredictionTimeout)
	case errors.Is(err, context.Canceled):
		c.Status(499)
	default:
		w.log.Error("run "+workflowType, "workflowId", id, "error", err)
		fail(c, http.StatusServiceUnavailable, "The workflow service is unavailable; try again shortly")
	}
	return false
}
