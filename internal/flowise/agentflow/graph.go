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
	g := &Graph{}
	ids := map[string]bool{}
	// sticky tells, for each id, whether the first node with it is a sticky note: edges to
	// and from those are dropped.
	sticky := map[string]bool{}
	for _, rn := range raw.Nodes {
		if _, seen := sticky[rn.ID]; !seen {
			sticky[rn.ID] = rn.Data.Name == KindStickyNote
		}
		if rn.Data.Name == KindStickyNote {
			continue
		}
		if rn.ID == "" {
			return nil, flowErr("a node has no id")
		}
		if ids[rn.ID] {
			return nil, flowErr("node id %s is used twice", rn.ID)
		}
		ids[rn.ID] = true
		cred := rn.Data.Credential
		if cred == "" {
			cred, _ = rn.Data.Inputs["credential"].(string)
		}
		g.Nodes = append(g.Nodes, Node{ID: rn.ID, Kind: rn.Data.Name, Label: rn.Data.Label, Parent: rn.ParentNode,
			Credential: cred, Inputs: rn.Data.Inputs})
	}
	for _, re := range raw.Edges {
		if !ids[re.Source] || !ids[re.Target] {
			if sticky[re.Source] || sticky[re.Target] {
				continue
			}
			return nil, flowErr("an edge joins %s to %s, but the flow has no such node", re.Source, re.Target)
		}
		g.Edges = append(g.Edges, Edge{Source: re.Source, Target: re.Target, Branch: branchOf(re.Source, re.SourceHandle)})
	}
	if err := g.validate(); err != nil {
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

// validate runs in time linear in the flow: flowData comes from clients, and is parsed again
// for every prediction.
func (g *Graph) validate() error {
	byID := make(map[string]Node, len(g.Nodes))
	for _, n := range g.Nodes {
		byID[n.ID] = n
	}
	for _, n := range g.Nodes {
		if n.Kind == KindStart && n.Parent == "" {
			if g.Start != "" {
				return flowErr("the flow has two Start nodes, %s and %s; it needs exactly one", g.Start, n.ID)
			}
			g.Start = n.ID
		}
		if n.Parent != "" {
			p, ok := byID[n.Parent]
			if !ok || p.Kind != KindIteration {
				return flowErr("node %s sits inside %s, which is not an Iteration node", n.ID, n.Parent)
			}
		}
		if n.Kind == KindLoop {
			target, err := loopTarget(n, func(id string) bool { _, ok := byID[id]; return ok })
			if err != nil {
				return err
			}
			if byID[target].Parent != n.Parent {
				return flowErr("loop %s jumps back to %s, outside its own iteration", n.ID, target)
			}
		}
	}
	if g.Start == "" {
		return flowErr("the flow has no Start node")
	}
	for _, e := range g.Edges {
		if e.Target == g.Start {
			return flowErr("the Start node %s cannot have inputs", g.Start)
		}
		if byID[e.Source].Parent != byID[e.Target].Parent {
			return flowErr("an edge joins %s to %s across an iteration's boundary", e.Source, e.Target)
		}
	}
	return g.acyclic()
}

// acyclic rejects cycles drawn with edges: repetition is what loop nodes are for. It is a
// depth-first search from each node in file order, following edges in file order, with its
// own stack: a chain of a million nodes must not take a million nested calls.
func (g *Graph) acyclic() error {
	const (
		unseen = iota
		open
		closed
	)
	next := map[string][]string{}
	for _, e := range g.Edges {
		next[e.Source] = append(next[e.Source], e.Target)
	}
	state := map[string]int{}
	type frame struct {
		id   string
		done int // edges out of id followed so far
	}
	var stack []frame
	for _, n := range g.Nodes {
		if state[n.ID] != unseen {
			continue
		}
		state[n.ID] = open
		stack = append(stack[:0], frame{id: n.ID})
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.done == len(next[top.id]) {
				state[top.id] = closed
				stack = stack[:len(stack)-1]
				continue
			}
			target := next[top.id][top.done]
			top.done++
			switch state[target] {
			case open:
				return flowErr("the flow has a cycle through %s; use a Loop node to repeat steps", target)
			case unseen:
				state[target] = open
				stack = append(stack, frame{id: target})
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

// LoopTarget is the node a loop node jumps back to. Flowise stores it as "<nodeId>-<label>";
// node ids never contain "-", so the id is what comes before the first one.
func (g *Graph) LoopTarget(loop Node) (string, error) {
	return loopTarget(loop, func(id string) bool { _, ok := g.Node(id); return ok })
}

func loopTarget(loop Node, exists func(id string) bool) (string, error) {
	ref := loop.Input("loopBackToNode")
	id, _, _ := strings.Cut(ref, "-")
	if id == "" || !exists(id) {
		return "", flowErr("loop %s jumps back to %q, which is not a node of the flow", loop.ID, ref)
	}
	return id, nil
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
