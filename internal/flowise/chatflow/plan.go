package chatflow

import (
	"fmt"
	"strings"
)

// Plan is a validated CHATFLOW ready to run: the nodes the ending node depends on, each after all
// of its sources. It is the immutable snapshot a prediction workflow receives.
type Plan struct {
	Steps  []Step `json:"steps"`
	Ending string `json:"ending"` // id of the node that answers
}

// Step is one node to run and the ids of the nodes whose results it consumes.
type Step struct {
	Node  Node     `json:"node"`
	Needs []string `json:"needs,omitempty"`
}

// EndingNode returns the step of the answering node.
func (p *Plan) EndingNode() Node {
	for _, s := range p.Steps {
		if s.Node.ID == p.Ending {
			return s.Node
		}
	}
	return Node{}
}

// Compile validates a classic CHATFLOW graph and orders it. known reports whether a node kind
// can run here; an unknown kind is an error that names the node.
func Compile(g *Graph, known func(kind string) bool) (*Plan, error) {
	index := map[string]int{}
	for i, n := range g.Nodes {
		if n.ID == "" {
			return nil, errorf("node %d has no id", i)
		}
		if _, dup := index[n.ID]; dup {
			return nil, errorf("node id %q appears twice", n.ID)
		}
		index[n.ID] = i
	}
	// Sources of each node, in edge order with duplicates removed (two edges from the same
	// node, e.g. into two inputs, are one dependency).
	sources := map[string][]string{}
	hasOut := map[string]bool{}
	for _, e := range g.Edges {
		if _, ok := index[e.Source]; !ok {
			return nil, errorf("edge from unknown node %q", e.Source)
		}
		if _, ok := index[e.Target]; !ok {
			return nil, errorf("edge to unknown node %q", e.Target)
		}
		if e.Source == e.Target {
			return nil, errorf("node %s is connected to itself, which makes a cycle", e.Source)
		}
		hasOut[e.Source] = true
		if !contains(sources[e.Target], e.Source) {
			sources[e.Target] = append(sources[e.Target], e.Source)
		}
	}

	var endings []Node
	for _, n := range g.Nodes {
		if !n.IsStickyNote() && !hasOut[n.ID] && len(sources[n.ID]) > 0 {
			endings = append(endings, n)
		}
	}
	if len(endings) == 0 {
		if len(g.Nodes) > 0 && len(g.Edges) > 0 {
			return nil, errorf("flow has no ending node: it contains a cycle")
		}
		return nil, errorf("Ending node not found: connect the nodes so that one Chain, Agent or Engine node ends the flow")
	}
	if len(endings) > 1 {
		ids := make([]string, len(endings))
		for i, n := range endings {
			ids[i] = n.ID
		}
		return nil, errorf("flow has %d ending nodes (%s); exactly one is required", len(endings), strings.Join(ids, ", "))
	}
	ending := endings[0]
	if !isEndingCategory(ending.Data.Category) && ending.Data.Outputs["output"] != "EndingNode" {
		return nil, errorf("Ending node must be either a Chain or Agent or Engine: %s (%s) is a %s node",
			ending.ID, ending.Data.Name, ending.Data.Category)
	}

	// Keep only the ending node's ancestors, as Flowise does: a node drawn but not wired in
	// does not run.
	needed := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if needed[id] {
			return
		}
		needed[id] = true
		for _, s := range sources[id] {
			visit(s)
		}
	}
	visit(ending.ID)

	order, err := topoOrder(g, needed, sources)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Ending: ending.ID, Steps: make([]Step, 0, len(order))}
	var unknown []string
	for _, i := range order {
		n := g.Nodes[i]
		if !known(n.Data.Name) {
			unknown = append(unknown, fmt.Sprintf("%s (%s)", n.ID, n.Data.Name))
		}
		plan.Steps = append(plan.Steps, Step{Node: n, Needs: sources[n.ID]})
	}
	switch len(unknown) {
	case 0:
		return plan, nil
	case 1:
		return nil, errorf("Flowgate cannot run node %s: this kind of node is not supported", unknown[0])
	}
	// Every one at once, so a flow is fixed in one round rather than one node at a time.
	return nil, errorf("Flowgate cannot run %d nodes of this flow, whose kinds are not supported: %s", len(unknown), strings.Join(unknown, ", "))
}

// topoOrder is Kahn's algorithm over the needed nodes, always taking the ready node that comes
// first in the file, so the same flow always runs in the same order.
func topoOrder(g *Graph, needed map[string]bool, sources map[string][]string) ([]int, error) {
	pending := map[string]int{}
	for id := range needed {
		pending[id] = len(sources[id])
	}
	done := map[string]bool{}
	order := make([]int, 0, len(needed))
	for len(order) < len(needed) {
		next := -1
		for i, n := range g.Nodes {
			if needed[n.ID] && !done[n.ID] && pending[n.ID] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			var stuck []string
			for _, n := range g.Nodes {
				if needed[n.ID] && !done[n.ID] {
					stuck = append(stuck, n.ID)
				}
			}
			return nil, errorf("flow contains a cycle through %s", strings.Join(stuck, ", "))
		}
		id := g.Nodes[next].ID
		done[id] = true
		order = append(order, next)
		for _, n := range g.Nodes {
			if contains(sources[n.ID], id) {
				pending[n.ID]--
			}
		}
	}
	return order, nil
}

func isEndingCategory(c string) bool {
	return c == CategoryChains || c == CategoryAgents || c == CategoryEngine
}

// CanStream reports whether the flow can answer token by token, by Flowise's rule: the ending
// node is a chain or agent, there is a chat model or LLM, none of them has streaming turned
// off, and no output parser reshapes the answer.
func (p *Plan) CanStream() bool {
	end := p.EndingNode()
	if !isEndingCategory(end.Data.Category) || end.Input("outputParser") != "" {
		return false
	}
	hasModel := false
	for _, s := range p.Steps {
		c := s.Node.Data.Category
		if c != CategoryChatModels && c != CategoryLLMs {
			continue
		}
		if s.Node.StreamingOff() {
			return false
		}
		hasModel = true
	}
	return hasModel
}

// MemoryNode returns the first memory node of the plan, if any.
func (p *Plan) MemoryNode() (Node, bool) {
	for _, s := range p.Steps {
		if s.Node.Data.Category == CategoryMemory {
			return s.Node, true
		}
	}
	return Node{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String names the step for logs and errors.
func (s Step) String() string { return fmt.Sprintf("%s (%s)", s.Node.ID, s.Node.Data.Name) }
