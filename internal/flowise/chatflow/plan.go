package chatflow

import (
	"container/heap"
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
	// Deferred is a chain wired only into chain tools (KindChainTool): it does not run when
	// the prediction starts, but each time an agent calls one of those tools.
	Deferred bool `json:"deferred,omitempty"`
}

// KindChainTool is Flowise's Chain Tool, which offers the chain wired into its baseChain
// input to an agent as a tool.
const KindChainTool = "chainTool"

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
	// node, e.g. into two inputs, are one dependency). Every step below is linear in nodes and
	// edges: a saved flow can be large, and an anonymous caller can make us compile it.
	sources := map[string][]string{}
	hasOut := map[string]bool{}
	seen := map[[2]string]bool{}
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
		if pair := [2]string{e.Source, e.Target}; !seen[pair] {
			seen[pair] = true
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
		return nil, errorf("flow has %d ending nodes (%s); exactly one is required", len(endings), listSome(ids))
	}
	ending := endings[0]
	if !isEndingCategory(ending.Data.Category) && ending.Data.Outputs["output"] != "EndingNode" {
		return nil, errorf("Ending node must be either a Chain or Agent or Engine: %s (%s) is a %s node",
			ending.ID, ending.Data.Name, ending.Data.Category)
	}

	// Keep only the ending node's ancestors, as Flowise does: a node drawn but not wired in
	// does not run.
	needed := map[string]bool{ending.ID: true}
	for stack := []string{ending.ID}; len(stack) > 0; {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range sources[id] {
			if !needed[s] {
				needed[s] = true
				stack = append(stack, s)
			}
		}
	}

	order, err := topoOrder(g, index, needed, sources)
	if err != nil {
		return nil, err
	}
	// A node whose every consumer is a chain tool runs only when the tool is called.
	consumers := map[string][]string{}
	for _, i := range order {
		for _, s := range sources[g.Nodes[i].ID] {
			consumers[s] = append(consumers[s], g.Nodes[i].Data.Name)
		}
	}
	plan := &Plan{Ending: ending.ID, Steps: make([]Step, 0, len(order))}
	var unknown []string
	for _, i := range order {
		n := g.Nodes[i]
		if !known(n.Data.Name) {
			unknown = append(unknown, fmt.Sprintf("%s (%s)", n.ID, n.Data.Name))
		}
		deferred := len(consumers[n.ID]) > 0
		for _, c := range consumers[n.ID] {
			deferred = deferred && c == KindChainTool
		}
		plan.Steps = append(plan.Steps, Step{Node: n, Needs: sources[n.ID], Deferred: deferred})
	}
	switch len(unknown) {
	case 0:
		return plan, nil
	case 1:
		return nil, errorf("Flowgate cannot run node %s: this kind of node is not supported", unknown[0])
	}
	// Every one at once, so a flow is fixed in one round rather than one node at a time.
	return nil, errorf("Flowgate cannot run %d nodes of this flow, whose kinds are not supported: %s", len(unknown), listSome(unknown))
}

// listSome joins ids for an error message, naming at most 20: a message naming thousands of
// nodes helps nobody and would be stored and logged whole.
func listSome(ids []string) string {
	const most = 20
	if len(ids) <= most {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:most], ", "), len(ids)-most)
}

// topoOrder is Kahn's algorithm over the needed nodes, always taking the ready node that comes
// first in the file, so the same flow always runs in the same order. A heap of ready positions
// keeps it O((n+e) log n).
func topoOrder(g *Graph, index map[string]int, needed map[string]bool, sources map[string][]string) ([]int, error) {
	pending := make(map[string]int, len(needed))
	targets := map[string][]string{}
	ready := &positions{}
	for id := range needed {
		pending[id] = len(sources[id])
		for _, s := range sources[id] {
			targets[s] = append(targets[s], id)
		}
		if pending[id] == 0 {
			heap.Push(ready, index[id])
		}
	}
	order := make([]int, 0, len(needed))
	for ready.Len() > 0 {
		next := heap.Pop(ready).(int)
		order = append(order, next)
		for _, t := range targets[g.Nodes[next].ID] {
			if pending[t]--; pending[t] == 0 {
				heap.Push(ready, index[t])
			}
		}
	}
	if len(order) < len(needed) {
		var stuck []string
		for _, n := range g.Nodes {
			if needed[n.ID] && pending[n.ID] > 0 {
				stuck = append(stuck, n.ID)
			}
		}
		return nil, errorf("flow contains a cycle through %s", listSome(stuck))
	}
	return order, nil
}

// positions is a min-heap of node positions in the file.
type positions []int

func (p positions) Len() int           { return len(p) }
func (p positions) Less(i, j int) bool { return p[i] < p[j] }
func (p positions) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }
func (p *positions) Push(x any)        { *p = append(*p, x.(int)) }
func (p *positions) Pop() any {
	old := *p
	x := old[len(old)-1]
	*p = old[:len(old)-1]
	return x
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
