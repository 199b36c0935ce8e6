package nodekit

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// SecretInput returns a node's input that the plan kept out of workflow history
// (node.RedactSecretInputs): read from the saved flow the run belongs to, so it lives only in
// this activity. An input that was not redacted is returned as the plan gives it.
func (d *Deps) SecretInput(ctx context.Context, run node.Run, n chatflow.Node, name string) (string, error) {
	v := n.Input(name)
	if v != node.RedactedInput {
		return v, nil
	}
	f, err := d.Store.GetChatFlow(ctx, run.ChatflowID)
	if errors.Is(err, models.ErrNotFound) {
		return "", FlowError("%s: the flow was deleted while it ran", n.ID)
	}
	if err != nil {
		return "", fmt.Errorf("%s: read %s from the saved flow: %w", n.ID, name, err)
	}
	g, err := chatflow.Parse(f.FlowData)
	if err != nil {
		return "", FlowError("%s: the saved flow: %v", n.ID, err)
	}
	for _, saved := range g.Nodes {
		if saved.ID == n.ID {
			return saved.Input(name), nil
		}
	}
	return "", FlowError("%s: the flow was changed while it ran: the node is gone", n.ID)
}
