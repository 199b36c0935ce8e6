package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// IfElseFunction runs its If Function; a truthy result takes the True output with that
// value, otherwise the Else Function's result takes the False one. The workflow then skips
// the nodes of the branch not taken (chatflow.Plan records them).
func (n *Nodes) IfElseFunction(ctx context.Context, req node.Request) (node.Value, error) {
	env, err := n.scriptEnv(ctx, req)
	if err != nil {
		return node.Value{}, err
	}
	out, err := n.runScript(ctx, req, req.Node.Input("ifFunction"), env)
	if err != nil {
		return node.Value{}, err
	}
	branch := node.BranchTrue
	if !truthy(out) {
		branch = node.BranchFalse
		if out, err = n.runScript(ctx, req, req.Node.Input("elseFunction"), env); err != nil {
			return node.Value{}, err
		}
	}
	v := node.TextValue(req.Node.Data.Name, scriptText(out))
	v.Branch = branch
	return v, nil
}
