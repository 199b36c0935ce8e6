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
	// Endings are the ending nodes an ifElseFunction chooses between, in plan order, when
	// there are several: the last of them that runs answers (Ending is the first). Empty
	// otherwise.
	Endings []string `json:"endings,omitempty"`
}

// Step is one node to run and the ids of the nodes whose results it consumes.
type Step struct {
	Node  Node     `json:"node"`
	Needs []string `json:"needs,omitempty"`
	// SkipWhen lists the decisions that leave the node out: it is on a branch of an
	// ifElseFunction, and does not run when that node takes the other branch.
	SkipWhen []Decision `json:"skipWhen,omitempty"`
	// Deferred is a chain wired only into chain tools (KindChainTool): it does not run when
	// the prediction starts, but each time an agent calls one of those tools.
	Deferred bool `json:"deferred,omitempty"`
}

// Decision is an ifElseFunction node taking one of its branches.
type Decision struct {
	Node   string `json:"node"`
	Branch string `json:"branch"` // BranchTrue or BranchFalse
}

// Names of the nodes whose results shape the plan, and of an ifElseFunction's branches (its
// output anchors, which edges name in their sourceHandle).
const (
	ifElseKind   = "ifElseFunction"
	setVariable  = "setVariable"
	getVariable  = "getVariable"
	BranchTrue   = "returnTrue"
	BranchFalse  = "returnFalse"
	branchPrefix = "-output-"
)

// Skipped reports whether the step is left out given the decisions taken so far.
func (s Step) Skipped(decisions map[string]string) bool {
	for _, d := range s.SkipWhen {
		if decisions[d.Node] == d.Branch {
			return true
		}
	}
	return false
}

// IsEnding reports whether node id is one of the plan's ending nodes.
func (p *Plan) IsEnding(id string) bool {
	if len(p.Endings) > 0 {
		return contains(p.Endings, id)
	}
	return id == p.Ending
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
	// A getVariable reads what the setVariable nodes of its name set during the run: it
	// depends on them as if they were wired to it.
	setters := map[string][]string{}
	branching := false
	for _, n := range g.Nodes {
		switch n.Data.Name {
		case setVariable:
			setters[n.Input("variableName")] = append(setters[n.Input("variableName")], n.ID)
		case ifElseKind:
			branching = true
		}
	}
	for _, n := range g.Nodes {
		if n.Data.Name != getVariable {
			continue
		}
		for _, s := range setters[n.Input("variableName")] {
			if pair := [2]string{s, n.ID}; !seen[pair] && s != n.ID {
				seen[pair] = true
				hasOut[s] = true
				sources[n.ID] = append(sources[n.ID], s)
			}
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
	endingIDs := make([]string, len(endings))
	for i, n := range endings {
		endingIDs[i] = n.ID
	}
	if len(endings) > 1 && !branching {
		return nil, errorf("flow has %d ending nodes (%s); exactly one is required", len(endings), listSome(endingIDs))
	}
	for _, ending := range endings {
		if !isEndingCategory(ending.Data.Category) && ending.Data.Outputs["output"] != "EndingNode" {
			return nil, errorf("Ending node must be either a Chain or Agent or Engine: %s (%s) is a %s node",
				ending.ID, ending.Data.Name, ending.Data.Category)
		}
	}

	// Keep only the ending nodes' ancestors, as Flowise does: a node drawn but not wired in
	// does not run.
	needed := ancestors(sources, endingIDs...)

	order, err := topoOrder(g, index, needed, sources)
	if err != nil {
		return nil, err
	}
	skip := map[string][]Decision{}
	if branching {
		skip = branches(g, needed, sources)
	}
	plan := &Plan{Steps: make([]Step, 0, len(order))}
	// A node whose every consumer is a chain tool runs only when the tool is called.
	consumers := map[string][]string{}
	for _, i := range order {
		for _, s := range sources[g.Nodes[i].ID] {
			consumers[s] = append(consumers[s], g.Nodes[i].Data.Name)
		}
	}
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
		plan.Steps = append(plan.Steps, Step{Node: n, Needs: sources[n.ID], SkipWhen: skip[n.ID], Deferred: deferred})
		if contains(endingIDs, n.ID) {
			plan.Endings = append(plan.Endings, n.ID)
		}
	}
	plan.Ending = plan.Endings[0]
	if len(plan.Endings) == 1 {
		plan.Endings = nil
	} else {
		for _, id := range plan.Endings {
			if len(skip[id]) == 0 {
				return nil, errorf("flow has %d ending nodes (%s); exactly one is required, or one on each branch of an If Else node",
					len(endings), listSome(endingIDs))
			}
		}
	}
	if err := unknownKinds(unknown); err != nil {
		return nil, err
	}
	plan.dropIgnoredLoaders()
	return plan, nil
}

// unknownKinds is the error naming the nodes whose kinds cannot run, nil when there are none.
func unknownKinds(unknown []string) error {
	switch len(unknown) {
	case 0:
		return nil
	case 1:
		return errorf("Flowgate cannot run node %s: this kind of node is not supported", unknown[0])
	}
	// Every one at once, so a flow is fixed in one round rather than one node at a time.
	return errorf("Flowgate cannot run %d nodes of this flow, whose kinds are not supported: %s", len(unknown), listSome(unknown))
}

// branches finds, for every ifElseFunction, the nodes on only one of its branches: those its
// True output leads to (through any number of edges) and its False output does not, and the
// other way round. Each is skipped when the other branch is taken. (Flowise ignores every node
// connected to the untaken branch's first node, ignoring edge directions; that can reach
// nodes of the taken branch through a shared model, which this does not.)
func branches(g *Graph, needed map[string]bool, sources map[string][]string) map[string][]Decision {
	targets := map[string][]string{}
	for id := range needed {
		for _, s := range sources[id] {
			targets[s] = append(targets[s], id)
		}
	}
	reach := func(from []string) map[string]bool {
		seen := map[string]bool{}
		for stack := from; len(stack) > 0; {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[id] || !needed[id] {
				continue
			}
			seen[id] = true
			stack = append(stack, targets[id]...)
		}
		return seen
	}
	skip := map[string][]Decision{}
	for _, n := range g.Nodes {
		if n.Data.Name != ifElseKind || !needed[n.ID] {
			continue
		}
		var onTrue, onFalse []string
		for _, e := range g.Edges {
			if e.Source != n.ID {
				continue
			}
			switch branchOf(n.ID, e.SourceHandle) {
			case BranchTrue:
				onTrue = append(onTrue, e.Target)
			case BranchFalse:
				onFalse = append(onFalse, e.Target)
			}
		}
		t, f := reach(onTrue), reach(onFalse)
		for _, m := range g.Nodes { // file order, so plans are the same every time
			switch {
			case t[m.ID] && !f[m.ID]:
				skip[m.ID] = append(skip[m.ID], Decision{Node: n.ID, Branch: BranchFalse})
			case f[m.ID] && !t[m.ID]:
				skip[m.ID] = append(skip[m.ID], Decision{Node: n.ID, Branch: BranchTrue})
			}
		}
	}
	return skip
}

// branchOf reads the branch an edge leaves an ifElseFunction by, from its sourceHandle
// ("<id>-output-returnTrue-string|number|…").
func branchOf(nodeID, handle string) string {
	rest, ok := strings.CutPrefix(handle, nodeID+branchPrefix)
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "-")
	return name
}

// ancestors are the nodes roots depend on through sources, roots included: what runs for
// them. The walk is an explicit stack, linear in nodes and edges, however deep the flow.
func ancestors(sources map[string][]string, roots ...string) map[string]bool {
	needed := make(map[string]bool, len(roots))
	stack := make([]string, 0, len(roots))
	for _, id := range roots {
		needed[id] = true
		stack = append(stack, id)
	}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range sources[id] {
			if !needed[s] {
				needed[s] = true
				stack = append(stack, s)
			}
		}
	}
	return needed
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

// dropIgnoredLoaders leaves out of a prediction the document loaders whose documents only
// feed vector stores that keep their own index (every one but memoryVectorStore): those are
// read at upsert time, and a prediction only searches the index. Flowise skips them too
// (checkIfDocLoaderShouldBeIgnored); so are the nodes that only fed them.
func (p *Plan) dropIgnoredLoaders() {
	byID := map[string]Node{}
	targets := map[string][]string{}
	for _, s := range p.Steps {
		byID[s.Node.ID] = s.Node
		for _, id := range s.Needs {
			targets[id] = append(targets[id], s.Node.ID)
		}
	}
	ignored := func(n Node) bool {
		if n.Data.Category != CategoryLoaders || len(targets[n.ID]) == 0 {
			return false
		}
		for _, t := range targets[n.ID] {
			if tn := byID[t]; tn.Data.Category != CategoryVectors || tn.Data.Name == "memoryVectorStore" {
				return false
			}
		}
		return true
	}
	dropped := map[string]bool{}
	for _, s := range p.Steps {
		if ignored(s.Node) {
			dropped[s.Node.ID] = true
		}
	}
	// Then what only fed them (their text splitters), back to the start.
	for i := len(p.Steps) - 1; i >= 0; i-- {
		n := p.Steps[i].Node
		if dropped[n.ID] || n.ID == p.Ending || len(targets[n.ID]) == 0 {
			continue
		}
		all := true
		for _, t := range targets[n.ID] {
			all = all && dropped[t]
		}
		dropped[n.ID] = all
	}
	if len(dropped) == 0 {
		return
	}
	kept := p.Steps[:0]
	for _, s := range p.Steps {
		if dropped[s.Node.ID] {
			continue
		}
		var needs []string
		for _, id := range s.Needs {
			if !dropped[id] {
				needs = append(needs, id)
			}
		}
		s.Needs = needs
		kept = append(kept, s)
	}
	p.Steps = kept
}

// UpsertPlan is a chatflow's vector upsert: the vector store node stopNodeID (or the flow's
// only vector store when it is empty) and the nodes wired into it, in order; the plan's
// ending is the vector store. Errors follow Flowise's upsertVector.
func UpsertPlan(g *Graph, known func(kind string) bool, stopNodeID string) (*Plan, error) {
	index := map[string]int{}
	var stores []string
	for i, n := range g.Nodes {
		index[n.ID] = i
		if n.Data.Category == CategoryVectors {
			stores = append(stores, n.ID)
		}
	}
	switch {
	case stopNodeID != "":
		i, ok := index[stopNodeID]
		if !ok {
			return nil, errorf("node %s not found", stopNodeID)
		}
		if g.Nodes[i].Data.Category != CategoryVectors {
			return nil, errorf("node %s (%s) is not a vector store", stopNodeID, g.Nodes[i].Data.Name)
		}
	case len(stores) == 0:
		return nil, errorf("No vector node found")
	case len(stores) > 1:
		return nil, errorf("There are multiple vector nodes, please provide stopNodeId in body request")
	default:
		stopNodeID = stores[0]
	}
	sources := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, e := range g.Edges {
		_, okS := index[e.Source]
		_, okT := index[e.Target]
		if !okS || !okT || e.Source == e.Target {
			continue
		}
		if pair := [2]string{e.Source, e.Target}; !seen[pair] {
			seen[pair] = true
			sources[e.Target] = append(sources[e.Target], e.Source)
		}
	}
	needed := ancestors(sources, stopNodeID)
	order, err := topoOrder(g, index, needed, sources)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Ending: stopNodeID}
	var unknown []string
	for _, i := range order {
		n := g.Nodes[i]
		if !known(n.Data.Name) {
			unknown = append(unknown, fmt.Sprintf("%s (%s)", n.ID, n.Data.Name))
		}
		plan.Steps = append(plan.Steps, Step{Node: n, Needs: sources[n.ID]})
	}
	if err := unknownKinds(unknown); err != nil {
		return nil, err
	}
	return plan, nil
}
