package chatflow

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// APIConfig is the chatflow's apiConfig column (Flowise stores it as a JSON string).
type APIConfig struct {
	RateLimit      json.RawMessage `json:"rateLimit,omitempty"`
	OverrideConfig OverridePolicy  `json:"overrideConfig"`
}

// OverridePolicy says which node inputs and variables a caller may override.
type OverridePolicy struct {
	Status    bool                       `json:"status"`
	Nodes     map[string][]OverrideInput `json:"nodes"` // keyed by node label
	Variables []OverrideInput            `json:"variables"`
}

// OverrideInput enables one input (or variable) by name.
type OverrideInput struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

// ParseAPIConfig decodes apiConfig; empty means no overrides allowed.
func ParseAPIConfig(s string) (APIConfig, error) {
	var c APIConfig
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, errorf("apiConfig is not valid JSON: %v", err)
	}
	return c, nil
}

func (p OverridePolicy) allows(label, input string) bool {
	if !p.Status {
		return false
	}
	for _, in := range p.Nodes[label] {
		if in.Name == input && in.Enabled {
			return true
		}
	}
	return false
}

// AllowedVars filters overrideConfig.vars down to the variables the policy enables.
func (p OverridePolicy) AllowedVars(vars map[string]any) map[string]string {
	out := map[string]string{}
	if !p.Status {
		return out
	}
	for _, v := range p.Variables {
		if val, ok := vars[v.Name]; ok && v.Enabled {
			out[v.Name] = stringify(val)
		}
	}
	return out
}

// reservedOverrideKeys are request-level settings, never node inputs.
var reservedOverrideKeys = map[string]bool{"sessionId": true, "vars": true}

// ApplyOverrides returns a copy of the plan whose node inputs carry the caller's overrides, by
// Flowise's rules: only inputs the policy enables for that node's label; a scalar replaces
// ("true"/"false" become booleans); an object keyed by node id targets that node; any other
// object merges shallowly over an object input (decoded or a JSON string, as exports store
// promptValues); null leaves the input unchanged. A value that is not of the input's declared
// type (a number, a boolean) is an *OverrideError: it would only fail when the node runs.
func (p *Plan) ApplyOverrides(policy OverridePolicy, override map[string]any) (*Plan, error) {
	out := *p
	out.Steps = make([]Step, len(p.Steps))
	ids := make(map[string]bool, len(p.Steps))
	for _, s := range p.Steps {
		ids[s.Node.ID] = true
	}
	for i, s := range p.Steps {
		n := s.Node
		n.Data.Inputs = maps.Clone(n.Data.Inputs)
		if n.Data.Inputs == nil {
			n.Data.Inputs = map[string]any{}
		}
		for _, key := range sortedKeys(override) {
			if reservedOverrideKeys[key] || !policy.allows(n.Data.Label, key) {
				continue
			}
			if v, ok := overrideValue(n, key, override[key], ids); ok {
				if err := checkInputType(n, key, v); err != nil {
					return nil, err
				}
				n.Data.Inputs[key] = v
			}
		}
		s.Node = n // the step's branch and deferral stay as compiled
		out.Steps[i] = s
	}
	return &out, nil
}

// OverrideError is an override value a node cannot take; the message names the input, the
// node and the type it needs.
type OverrideError struct{ Msg string }

func (e *OverrideError) Error() string { return e.Msg }

// checkInputType refuses a value for a number or boolean input that is not one. An input's
// type is the one its node declares, else that of the value drawn (a flow written without
// inputParams). Other types take what Flowise takes (text, objects), and an input of no known
// type anything.
func checkInputType(n Node, input string, v any) error {
	want := n.Data.InputTypes[input]
	if want == "" {
		switch n.Data.Inputs[input].(type) {
		case float64, json.Number:
			want = "number"
		case bool:
			want = "boolean"
		}
	}
	var ok bool
	switch want {
	case "number":
		switch t := v.(type) {
		case float64, json.Number:
			ok = true
		case string: // numbers often arrive as text; empty text sets nothing
			_, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
			ok = err == nil || strings.TrimSpace(t) == ""
		}
	case "boolean":
		_, ok = v.(bool)
	default:
		return nil
	}
	if ok {
		return nil
	}
	raw, _ := json.Marshal(v)
	return &OverrideError{Msg: fmt.Sprintf("overrideConfig.%s must be a %s for node %s (%s), got %s",
		input, want, n.ID, n.Data.Label, raw)}
}

func overrideValue(n Node, key string, v any, nodeIDs map[string]bool) (any, bool) {
	switch t := v.(type) {
	case nil:
		// Flowise only applies a truthy override value; null leaves the input as drawn.
		return nil, false
	case string:
		switch t {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return t, true
	case map[string]any:
		if perNode, ok := t[n.ID]; ok {
			return perNode, true
		}
		// An object keyed by other nodes' ids is not for this node, whatever this node's
		// input holds.
		for k := range t {
			if nodeIDs[k] {
				return nil, false
			}
		}
		if existing, ok := objectInput(n.Data.Inputs[key]); ok {
			merged := maps.Clone(existing)
			maps.Copy(merged, t)
			return merged, true
		}
		return t, true
	default:
		return t, true
	}
}

// objectInput returns an input that holds an object: either decoded already or, as Flowise
// exports store promptValues, a JSON object written as a string.
func objectInput(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case map[string]any:
		return t, true
	case string:
		s := strings.TrimSpace(t)
		if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
			return nil, false
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(s), &obj); err != nil || obj == nil {
			return nil, false
		}
		return obj, true
	}
	return nil, false
}
