package chatnodes

import (
	"context"
	"encoding/json"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/zod"
	"github.com/flowgate/flowgate/workflows/node"
)

// StructuredOutputParser asks for a JSON object with the properties of its grid (property,
// type, description), each optional as in Flowise.
func (n *Nodes) StructuredOutputParser(_ context.Context, req node.Request) (node.Value, error) {
	var rows []struct {
		Property    string `json:"property"`
		Type        string `json:"type"`
		Description string `json:"description"`
	}
	raw := req.Node.Data.Inputs["jsonStructure"]
	if s, ok := raw.(string); ok {
		if err := json.Unmarshal([]byte(s), &rows); err != nil {
			return node.Value{}, nodekit.FlowError("%s: Invalid JSON in StructuredOutputParser: %v", req.Node.ID, err)
		}
	} else if b, err := json.Marshal(raw); err == nil && raw != nil {
		if err := json.Unmarshal(b, &rows); err != nil {
			return node.Value{}, nodekit.FlowError("%s: Invalid JSON in StructuredOutputParser: %v", req.Node.ID, err)
		}
	}
	obj := &zod.Type{Kind: "object"}
	for _, r := range rows {
		if r.Property == "" {
			continue
		}
		kind := r.Type
		switch kind {
		case "string", "number", "boolean":
		case "date":
			kind = "date"
		default:
			kind = "string"
		}
		obj.Props = append(obj.Props, zod.Prop{Name: r.Property, Type: &zod.Type{Kind: kind, Description: r.Description, Optional: true}})
	}
	return schemaParser(req, obj), nil
}
