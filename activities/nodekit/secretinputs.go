package nodekit

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// SecretInput returns input name of node nodeID of chatflow chatflowID, given as the plan
// gives it (planned). When the plan kept it out of workflow history (node.RedactSecretInputs)
// it is read from the saved flow, so it lives only in this activity.
func (d *Deps) SecretInput(ctx context.Context, chatflowID, nodeID, name, planned string) (string, error) {
	if planned != node.RedactedInput {
		return planned, nil
	}
	f, err := d.Store.GetChatFlow(ctx, chatflowID)
	if errors.Is(err, models.ErrNotFound) {
		return "", FlowError("%s: the flow was deleted while it ran", nodeID)
	}
	if err != nil {
		return "", fmt.Errorf("%s: read %s from the saved flow: %w", nodeID, name, err)
	}
	g, err := chatflow.Parse(f.FlowData)
	if err != nil {
		return "", FlowError("%s: the saved flow: %v", nodeID, err)
	}
	for _, saved := range g.Nodes {
		if saved.ID == nodeID {
			return saved.Input(name), nil
		}
	}
	return "", FlowError("%s: the flow was changed while it ran: the node is gone", nodeID)
}
