package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// CustomFunction runs its JavaScript in the sandbox; what it returns is its output, text for
// the nodes that read it, or the answer when the node is the flow's ending node.
func (n *Nodes) CustomFunction(ctx context.Context, req node.Request) (node.Value, error) {
	env, err := n.scriptEnv(ctx, req)
	if err != nil {
		return node.Value{}, err
	}
	out, err := n.runScript(ctx, req, req.Node.Input("javascriptFunction"), env)
	if err != nil {
		return node.Value{}, err
	}
	text := scriptText(out)
	if req.Ending {
		if topic := streamTo(req); topic != "" && text != "" {
			n.PublishAnswer(ctx, topic, text)
		}
	}
	return node.TextValue(req.Node.Data.Name, text), nil
}
