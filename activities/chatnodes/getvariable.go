package chatnodes

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/flowgate/flowgate/workflows/node"
)

// GetVariable reads a run-scoped variable a setVariable node set. The plan runs every
// setVariable of that name before it and hands their values on; the last in id order wins
// when several set it. An unset variable reads as "".
func (n *Nodes) GetVariable(_ context.Context, req node.Request) (node.Value, error) {
	name := req.Node.Input("variableName")
	var ids []string
	for id, v := range req.Upstream {
		if v.FlowVar != nil && v.FlowVar.Name == name {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var value any
	if len(ids) > 0 {
		_ = json.Unmarshal(req.Upstream[ids[len(ids)-1]].FlowVar.Value, &value)
	}
	return node.TextValue(req.Node.Data.Name, scriptText(value)), nil
}
