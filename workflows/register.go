package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/workflows/node"
)

// Register registers every workflow under the type name histories record.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Prediction, workflow.RegisterOptions{Name: node.PredictionWorkflow})
	r.RegisterWorkflowWithOptions(Agentflow, workflow.RegisterOptions{Name: node.AgentflowWorkflow})
	r.RegisterWorkflowWithOptions(Iteration, workflow.RegisterOptions{Name: node.IterationWorkflow})
	r.RegisterWorkflowWithOptions(DocumentStoreUpsert, workflow.RegisterOptions{Name: node.UpsertWorkflow})
	r.RegisterWorkflowWithOptions(DocumentStoreQuery, workflow.RegisterOptions{Name: node.QueryWorkflow})
	r.RegisterWorkflowWithOptions(VectorUpsert, workflow.RegisterOptions{Name: node.VectorUpsertWorkflow})
}
