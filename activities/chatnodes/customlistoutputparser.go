package chatnodes

import (
	"context"
	"strconv"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// CustomListOutputParser asks for a list cut by its separator ("," by default), of Length
// items when set, and answers it as a JSON array.
func (n *Nodes) CustomListOutputParser(_ context.Context, req node.Request) (node.Value, error) {
	p := node.Parser{Separator: req.Node.Input("separator")}
	if s := req.Node.Input("length"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return node.Value{}, nodekit.FlowError("%s: length must be a positive whole number, got %q", req.Node.ID, s)
		}
		p.Length = v
	}
	return parserValue(req, p), nil
}
