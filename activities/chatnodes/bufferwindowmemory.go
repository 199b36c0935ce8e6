package chatnodes

import (
	"context"
	"strconv"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// BufferWindowMemory keeps the last k exchanges (2k messages) of a session, 4 by default.
func (n *Nodes) BufferWindowMemory(ctx context.Context, req node.Request) (node.Value, error) {
	k := 4
	if s := req.Node.Input("k"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return node.Value{}, nodekit.FlowError("%s: k must be a positive whole number, got %q", req.Node.ID, s)
		}
		k = v
	}
	return n.loadMemory(ctx, req, 2*k)
}
