package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// ChatPromptTemplate is a system and a human message with their values resolved as far as the
// node can.
func (n *Nodes) ChatPromptTemplate(_ context.Context, req node.Request) (node.Value, error) {
	values, err := chatflow.PromptValues(req.Node.Data.Inputs["promptValues"], vars(req))
	if err != nil {
		return node.Value{}, nodekit.Classify(err)
	}
	p := &node.Prompt{
		System: req.Node.Input("systemMessagePrompt"),
		Human:  req.Node.Input("humanMessagePrompt"),
		Values: values,
	}
	if p.Human == "" {
		return node.Value{}, nodekit.FlowError("%s: the human message prompt is empty", req.Node.ID)
	}
	return node.Value{Kind: req.Node.Data.Name, Prompt: p}, nil
}
