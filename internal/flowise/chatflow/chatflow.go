// Package chatflow reads Flowise's CHATFLOW format (flowData) and turns it into an immutable plan that a
// workflow can interpret: which nodes run, in which order, and which one answers.
//
// It is pure (no I/O, no clocks, no map-order dependence) so the API can validate a flow before
// it is saved and workflow code can use the same rules deterministically.
package chatflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Node categories, as Flowise writes them in data.category.
const (
	CategoryChains     = "Chains"
	CategoryAgents     = "Agents"
	CategoryEngine     = "Engine"
	CategoryChatModels = "Chat Models"
	CategoryLLMs       = "LLMs"
	CategoryMemory     = "Memory"
	CategoryLoaders    = "Document Loaders"
	CategoryVectors    = "Vector Stores"
)

// Graph is flowData as Flowise exports it: nodes, edges and the editor's viewport (ignored).
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node is one node of the graph. Only what execution needs is kept; the editor's layout and
// parameter schemas stay in the stored flowData.
type Node struct {
	ID   string   `json:"id"`
	Type string   `json:"type,omitempty"` // "customNode", "stickyNote", …
	Data NodeData `json:"data"`
}

// NodeData is a node's data block.
type NodeData struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"` // the node kind, e.g. "chatOpenAI"
	Label      string            `json:"label"`
	Category   string            `json:"category"`
	Credential string            `json:"credential,omitempty"`
	Inputs     map[string]any    `json:"inputs,omitempty"`
	Outputs    map[string]string `json:"outputs,omitempty"`
	// InputTypes are the declared types of the inputs ("number", "boolean", …), from the
	// node's inputParams; what overrides are checked against. They stay out of the plan that
	// runs (and of workflow histories): a run only needs the values.
	InputTypes map[string]string `json:"-"`
}

// Edge connects an output handle of Source to an input handle of Target.
type Edge struct {
	Source       string `json:"source"`
	SourceHandle string `json:"sourceHandle"`
	Target       string `json:"target"`
	TargetHandle string `json:"targetHandle"`
}

// Error is a flow that cannot run. Its message is written for the person who drew the flow.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// IsFlowError reports whether err says the flow itself is wrong (a client error, not retryable).
func IsFlowError(err error) bool {
	var fe *Error
	return errors.As(err, &fe)
}

// Parse decodes flowData. Node data.outputs may hold non-string values in old exports; those are
// dropped rather than rejected, since only string output selections matter for execution.
func Parse(flowData string) (*Graph, error) {
	var raw struct {
		Nodes []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
			Data struct {
				NodeData
				Outputs     map[string]any `json:"outputs"`
				InputParams []struct {
					Name string `json:"name"`
					Type string `json:"type"`
				} `json:"inputParams"`
			} `json:"data"`
		} `json:"nodes"`
		Edges []Edge `json:"edges"`
	}
	if err := json.Unmarshal([]byte(flowData), &raw); err != nil {
		return nil, errorf("flowData is not valid JSON: %v", err)
	}
	g := &Graph{Edges: raw.Edges, Nodes: make([]Node, 0, len(raw.Nodes))}
	for _, rn := range raw.Nodes {
		n := Node{ID: rn.ID, Type: rn.Type, Data: rn.Data.NodeData}
		if n.Data.ID == "" {
			n.Data.ID = n.ID
		}
		for _, p := range rn.Data.InputParams {
			if n.Data.InputTypes == nil {
				n.Data.InputTypes = map[string]string{}
			}
			n.Data.InputTypes[p.Name] = p.Type
		}
		n.Data.Outputs = map[string]string{}
		for k, v := range rn.Data.Outputs {
			if s, ok := v.(string); ok {
				n.Data.Outputs[k] = s
			}
		}
		g.Nodes = append(g.Nodes, n)
	}
	return g, nil
}

// IsStickyNote reports nodes that only annotate the canvas.
func (n Node) IsStickyNote() bool {
	return n.Type == "stickyNote" || n.Data.Name == "stickyNote" || n.Data.Name == "stickyNoteAgentflow"
}

// StreamingOff reports a model node whose streaming input is turned off (absent means on).
func (n Node) StreamingOff() bool {
	v, ok := n.Data.Inputs["streaming"]
	return ok && (v == false || v == "false")
}

// Input returns a node input as a string ("" when absent); numbers and booleans are formatted.
func (n Node) Input(name string) string {
	return stringify(n.Data.Inputs[name])
}

func stringify(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64, bool, json.Number:
		return fmt.Sprint(t)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Sprint(t)
		}
		return string(b)
	}
}

// sortedKeys returns a map's keys in order, for deterministic iteration.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// instanceRef matches Flowise's reference to another node's result, "{{nodeId.data.instance}}".
func instanceRef(s string) (nodeID string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{{") || !strings.HasSuffix(s, ".data.instance}}") {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(s, "{{"), ".data.instance}}"), true
}

// InstanceRef returns the node id an input value refers to, when the value is a connection.
func InstanceRef(v any) (nodeID string, ok bool) {
	s, isString := v.(string)
	if !isString {
		return "", false
	}
	return instanceRef(s)
}

// InstanceRefs returns the node ids a list input refers to, in order: an agent's tools
// ("{{calculator_0.data.instance}}", …), which Flowise may nest in lists. A single reference
// is a list of one.
func InstanceRefs(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case []any:
			for _, x := range t {
				walk(x)
			}
		case []string:
			for _, x := range t {
				walk(x)
			}
		default:
			if id, ok := InstanceRef(t); ok {
				out = append(out, id)
			}
		}
	}
	walk(v)
	return out
}

// String names the node for errors: "toolAgent_0 (toolAgent)".
func (n Node) String() string { return n.ID + " (" + n.Data.Name + ")" }

// ToolIDs are the ids of the nodes wired into an agent's tools input, in order.
func (n Node) ToolIDs() []string { return InstanceRefs(n.Data.Inputs["tools"]) }
