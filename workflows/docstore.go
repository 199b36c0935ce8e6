package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/workflows/node"
)

// DocumentStoreUpsert loads, splits and embeds documents into a document store on the worker
// tier, so the API process never calls an embedding provider and an upsert survives an API
// restart. It is one activity: the write is one transaction at its end, and a retried attempt
// replaces what an earlier one wrote (the new loader's id derives from the run).
func DocumentStoreUpsert(ctx workflow.Context, in node.UpsertInput) (node.UpsertResult, error) {
	var out node.UpsertResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, upsertOptions), node.UpsertActivity, in).Get(ctx, &out)
	return out, err
}

// DocumentStoreQuery embeds a query and searches a document store on the worker tier.
func DocumentStoreQuery(ctx workflow.Context, in node.QueryInput) (node.QueryResult, error) {
	var out node.QueryResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, queryOptions), node.QueryActivity, in).Get(ctx, &out)
	return out, err
}

var (
	knowledgeNonRetryable = []string{node.ErrFlow, node.ErrCredential, node.ErrProvider, node.ErrInvalid, node.ErrNotFound}

	// Embedding a large document takes minutes; heartbeats show the attempt alive, so a dead
	// worker's is retried within the heartbeat timeout.
	upsertOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        4,
			NonRetryableErrorTypes: knowledgeNonRetryable,
		},
	}
	queryOptions = workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        500 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			MaximumAttempts:        3,
			NonRetryableErrorTypes: knowledgeNonRetryable,
		},
	}
)
