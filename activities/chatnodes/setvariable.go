package chatnodes

import (
	"context"
	"encoding/json"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// SetVariable sets a run-scoped variable to its input (another node's output, or a value),
// for the getVariable nodes of the same name; with showOutput the answer lists it under
// flowVariables.
func (n *Nodes) SetVariable(_ context.Context, req node.Request) (node.Value, error) {
	name := req.Node.Input("variableName")
	if name == "" {
		return node.Value{}, nodekit.FlowError("%s: the variable has no name", req.Node.ID)
	}
	value := req.Node.Data.Inputs["input"]
	if list, ok := value.([]any); ok && len(list) == 1 {
		value = list[0]
	}
	if s, ok := value.(string); ok {
		value = vars(req).Resolve(s)
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return node.Value{}, nodekit.FlowError("%s: %v", req.Node.ID, err)
	}
	v := node.TextValue(req.Node.Data.Name, scriptText(value))
	v.FlowVar = &node.FlowVar{Name: name, Value: raw, Show: isTrue(req.Node.Data.Inputs["showOutput"])}
	return v, nil
}
