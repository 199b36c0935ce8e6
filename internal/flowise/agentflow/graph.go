// Package agentflow reads Flowise's AGENTFLOW (Agent Flows v2) format and decides, step by
// step, which nodes run: one Start node, nodes that wait for their inputs, decision nodes that
// enable only the branches they chose, loops that jump back a bounded number of times, and
// iterations whose child nodes run once per item.
//
// Like package flow it is pure (no I/O, no clock, no map-order dependence), because the
// workflow that runs an agentflow calls it from deterministic workflow code.
package agentflow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// Node kinds of the Agent Flows v2 node set.
const (
	KindStart          = "startAgentflow"
	KindLLM            = "llmAgentflow"
	KindAgent          = "agentAgentflow"
	KindCondition      = "conditionAgentflow"
	KindConditionAgent = "conditionAgentAgentflow"
	KindLoop           = "loopAgentflow"
	KindIteration      = "iterationAgentflow"
	KindHTTP           = "httpAgentflow"
	KindCustomFunction = "customFunctionAgentflow"
	KindDirectReply    = "directReplyAgentflow"
	KindHumanInput     = "humanInputAgentflow"
	KindExecuteFlow    = "executeFlowAgentflow"
	KindRetriever      = "retrieverAgentflow"
	KindTool           = "toolAgentflow"
	KindStickyNote     = "stickyNoteAgentflow"
)

// IsDecision reports the kinds that enable only some of their output branches.
func IsDecision(kind string) bool {
	return kind == KindCondition || kind == KindConditionAgent || kind == KindHumanInput
}

// DefaultMaxLoopCount is Flowise's default for a loop node without maxLoopCount.
const DefaultMaxLoopCount = 5

// Node is one node of an agentflow: what execution needs, not the editor's layout.
type Node struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
	// Parent is the iteration node this node runs inside, if any.
	Parent string `json:"parent,omitempty"`
	// Credential is the id of the node's own credential (an HTTP node's auth), never its data.
	Credential string         `json:"credential,omitempty"`
	Inputs     map[string]any `json:"inputs,omitempty"`
}

// String names the node as errors do: "llmAgentflow_0 (llmAgentflow)".
func (n Node) String() string { return n.ID + " (" + n.Kind + ")" }

// Input returns a string input, or "" when it is absent or not a string.
func (n Node) Input(name string) string {
	s, _ := n.Inputs[name].(string)
	return s
}

// Edge connects Source to Target. Branch is the output index of a decision node's edge
// (handle "<source>-output-<i>"), or -1 for an ordinary edge.
type Edge struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Branch int    `json:"branch"`
}

// Graph is a parsed, validated agentflow. Nodes keep the order of the flow file, which is the
// order ready nodes are reported in.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
	Start string `json:"start"`
}

// rawFlow is flowData as Flowise exports an agentflow.
type rawFlow struct {
	Nodes []struct {
		ID         string `json:"id"`
		ParentNode string `json:"parentNode"`
		Data       struct {
			Name       string         `json:"name"`
			Label      string         `json:"label"`
			Credential string         `json:"credential"`
			Inputs     map[string]any `json:"inputs"`
		} `json:"data"`
	} `json:"nodes"`
	Edges []struct {
		Source       string `json:"source"`
		SourceHandle string `json:"sourceHandle"`
		Target       string `json:"target"`
	} `json:"edges"`
}

func flowErr(format string, args ...any) error {
	return &chatflow.Error{Msg: fmt.Sprintf(format, args...)}
}

// Parse reads and validates an agentflow's flowData: one Start node, edges
// between existing nodes that stay inside one iteration, loops that jump back to a node that
// exists, and no cycle other than through a loop node.
func Parse(flowData string) (*Graph, error) {
	var raw rawFlow
	if err := json.Unmarshal([]byte(flowData), &raw); err != nil {
		return nil, flowErr("flowData is not valid JSON: %v", err)
	}
	// Every check below is linear in nodes and edges, through these indexes: a saved flow can
	// be large, and an anonymous caller can make us parse it.
	g := &Graph{}
	byID := map[string]int{}
	sticky := map[string]bool{}
	for _, rn := range raw.Nodes {
		if rn.Data.Name == KindStickyNote {
			sticky[rn.ID] = true
			continue
		}
		if rn.ID == "" {
			return nil, flowErr("a node has no id")
		}
		if _, dup := byID[rn.ID]; dup {
			return nil, flowErr("node id %s is used twice", rn.ID)
		}
		byID[rn.ID] = len(g.Nodes)
		cred := rn.Data.Credential
		if cred == "" {
			cred, _ = rn.Data.Inputs["credential"].(string)
		}
		g.Nodes = append(g.Nodes, Node{ID: rn.ID, Kind: rn.Data.Name, Label: rn.Data.Label, Parent: rn.ParentNode,
			Credential: cred, Inputs: rn.Data.Inputs})
	}
	for _, re := range raw.Edges {
		_, source := byID[re.Source]
		_, target := byID[re.Target]
		if !source || !target {
			if sticky[re.Source] || sticky[re.Target] {
				continue
			}
			return nil, flowErr("an edge joins %s to %s, but the flow has no such node", re.Source, re.Target)
		}
		g.Edges = append(g.Edges, Edge{Source: re.Source, Target: re.Target, Branch: branchOf(re.Source, re.SourceHandle)})
	}
	if err := g.validate(byID); err != nil {
		return nil, err
	}
	return g, nil
}

// branchOf reads the output index of a handle "<source>-output-<i>"; -1 when it has none.
func branchOf(source, handle string) int {
	i, err := strconv.Atoi(strings.TrimPrefix(handle, source+"-output-"))
	if err != nil || !strings.HasPrefix(handle, source+"-output-") {
		return -1
	}
	return i
}

// validate checks the parsed graph; byID is the position of each node in g.Nodes.
func (g *Graph) validate(byID map[string]int) error {
	node := func(id string) (Node, bool) {
		i, ok := byID[id]
		if !ok {
			return Node{}, false
		}
		return g.Nodes[i], true
	}
	for _, n := range g.Nodes {
		if n.Kind == KindStart && n.Parent == "" {
			if g.Start != "" {
				return flowErr("the flow has two Start nodes, %s and %s; it needs exactly one", g.Start, n.ID)
			}
			g.Start = n.ID
		}
		if n.Parent != "" {
			p, ok := node(n.Parent)
			if !ok || p.Kind != KindIteration {
				return flowErr("node %s sits inside %s, which is not an Iteration node", n.ID, n.Parent)
			}
		}
		if n.Kind == KindLoop {
			target, ok := loopTarget(n)
			t, exists := node(target)
			if !ok || !exists {
				return flowErr("loop %s jumps back to %q, which is not a node of the flow", n.ID, n.Input("loopBackToNode"))
			}
			if t.Parent != n.Parent {
				return flowErr("loop %s jumps back to %s, outside its own iteration", n.ID, target)
			}
		}
	}
	if g.Start == "" {
		return flowErr("the flow has no Start node")
	}
	targets := make(map[string][]string, len(g.Nodes))
	for _, e := range g.Edges {
		if e.Target == g.Start {
			return flowErr("the Start node %s cannot have inputs", g.Start)
		}
		s, _ := node(e.Source)
		t, _ := node(e.Target)
		if s.Parent != t.Parent {
			return flowErr("an edge joins %s to %s across an iteration's boundary", e.Source, e.Target)
		}
		targets[e.Source] = append(targets[e.Source], e.Target)
	}
	return g.acyclic(targets)
}

// acyclic rejects cycles drawn with edges: repetition is what loop nodes are for. The search
// keeps its own stack, so a long chain of nodes cannot exhaust the goroutine's.
func (g *Graph) acyclic(targets map[string][]string) error {
	const (
		unseen = iota
		open
		closed
	)
	type frame struct {
		id   string
		next int // index into targets[id] of the next edge to follow
	}
	state := make(map[string]int, len(g.Nodes))
	for _, n := range g.Nodes {
		if state[n.ID] != unseen {
			continue
		}
		state[n.ID] = open
		stack := []frame{{id: n.ID}}
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next == len(targets[top.id]) {
				state[top.id] = closed
				stack = stack[:len(stack)-1]
				continue
			}
			t := targets[top.id][top.next]
			top.next++
			switch state[t] {
			case open:
				return flowErr("the flow has a cycle through %s; use a Loop node to repeat steps", t)
			case unseen:
				state[t] = open
				stack = append(stack, frame{id: t})
			}
		}
	}
	return nil
}

// Node returns the node with this id.
func (g *Graph) Node(id string) (Node, bool) {
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

// LoopTarget is the node a loop node jumps back to.
func (g *Graph) LoopTarget(loop Node) (string, error) {
	id, ok := loopTarget(loop)
	if _, exists := g.Node(id); !ok || !exists {
		return "", flowErr("loop %s jumps back to %q, which is not a node of the flow", loop.ID, loop.Input("loopBackToNode"))
	}
	return id, nil
}

// loopTarget reads the id a loop node names. Flowise stores it as "<nodeId>-<label>"; node ids
// never contain "-", so the id is what comes before the first one.
func loopTarget(loop Node) (string, bool) {
	id, _, _ := strings.Cut(loop.Input("loopBackToNode"), "-")
	return id, id != ""
}

// MaxLoopCount is how many times a loop node jumps back before it gives up.
func MaxLoopCount(loop Node) int {
	switch v := loop.Inputs["maxLoopCount"].(type) {
	case float64:
		if v > 0 {
			return int(v)
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return n
		}
	}
	return DefaultMaxLoopCount
}

// Children are the nodes an iteration node runs for each item, in file order.
func (g *Graph) Children(iteration string) []Node {
	var out []Node
	for _, n := range g.Nodes {
		if n.Parent == iteration {
			out = append(out, n)
		}
	}
	return out
}

// Parents lists the nodes with an edge into id, in file order.
func (g *Graph) Parents(id string) []string {
	var out []string
	for _, n := range g.Nodes {
		for _, e := range g.Edges {
			if e.Target == id && e.Source == n.ID {
				out = append(out, n.ID)
				break
			}
		}
	}
	return out
}

// IsEnding reports whether a node has no outgoing edge.
func (g *Graph) IsEnding(id string) bool {
	for _, e := range g.Edges {
		if e.Source == id {
			return false
		}
	}
	return true
}
