package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/workflows/node"
)

// VectorUpsert is a chatflow's vector upsert (Flowise's POST /api/v1/vector/upsert/{id}) on
// the worker tier: the nodes wired into the vector store run as in a prediction (loaders,
// splitter, embeddings: one activity each), then the vector store node adds their documents.
func VectorUpsert(ctx workflow.Context, in node.VectorUpsertInput) (node.VectorAdded, error) {
	c := &chatRun{plan: in.Plan, run: in.Run, nodes: quickLocal, runID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	ending, _, err := c.runSteps(ctx, true)
	if err != nil {
		return node.VectorAdded{}, err
	}
	added := c.results[ending].Upserted
	if added == nil {
		return node.VectorAdded{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("node %s is not a vector store that can be upserted", ending), node.ErrFlow, nil)
	}
	return *added, nil
}
