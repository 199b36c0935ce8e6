package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/internal/knowledge/textsplit"
	"github.com/flowgate/flowgate/workflows/node"
)

// PlainText loads its text input as one document.
func (n *Nodes) PlainText(_ context.Context, req node.Request) (node.Value, error) {
	return loaded(req, []textsplit.Document{{PageContent: req.Node.Input("text"), Metadata: map[string]any{}}})
}
