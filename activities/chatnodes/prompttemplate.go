package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// PromptTemplate is a one-message prompt with its values resolved as far as the node can; the
// chain fills in the rest.
func (n *Nodes) PromptTemplate(_ context.Context, req node.Request) (node.Value, error) {
	values, err := chatflow.PromptValues(req.Node.Data.Inputs["promptValues"], vars(req))
	if err != nil {
		return node.Value{}, nodekit.Classify(err)
	}
	tmpl := req.Node.Input("template")
	if tmpl == "" {
		return node.Value{}, nodekit.FlowError("%s: the prompt template is empty", req.Node.ID)
	}
	return node.Value{Kind: req.Node.Data.Name, Prompt: &node.Prompt{Template: tmpl, Values: values}}, nil
}
