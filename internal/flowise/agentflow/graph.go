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
	"slices"
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

// Kinds lists the node kinds an agentflow may hold (sticky notes are dropped when parsed).
var Kinds = []string{
	KindStart, KindLLM, KindAgent, KindCondition, KindConditionAgent, KindLoop, KindIteration,
	KindHTTP, KindCustomFunction, KindDirectReply, KindHumanInput, KindExecuteFlow, KindRetriever,
	KindTool,
}

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

// Parse reads and validates an agentflow's flowData: one Start node, known node kinds, edges
// between existing nodes that stay inside one iteration, loops that jump back to a node that
// exists, and no cycle other than through a loop node.
func Parse(flowData string) (*Graph, error) {
	var raw rawFlow
	if err := json.Unmarshal([]byte(flowData), &raw); err != nil {
		return nil, flowErr("flowData is not valid JSON: %v", err)
	}
	g := &Graph{}
	ids := map[string]bool{}
	for _, rn := range raw.Nodes {
		if rn.Data.Name == KindStickyNote {
			continue
		}
		if rn.ID == "" {
			return nil, flowErr("a node has no id")
		}
		if ids[rn.ID] {
			return nil, flowErr("node id %s is used twice", rn.ID)
		}
		if !slices.Contains(Kinds, rn.Data.Name) {
			return nil, flowErr("node %s has kind %q, which agentflows here do not support", rn.ID, rn.Data.Name)
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
			if isStickyNote(raw, re.Source) || isStickyNote(raw, re.Target) {
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

func isStickyNote(raw rawFlow, id string) bool {
	for _, n := range raw.Nodes {
		if n.ID == id {
			return n.Data.Name == KindStickyNote
		}
	}
	return false
}

// branchOf reads the output index of a handle "<source>-output-<i>"; -1 when it has none.
func branchOf(source, handle string) int {
	i, err := strconv.Atoi(strings.TrimPrefix(handle, source+"-output-"))
	if err != nil || !strings.HasPrefix(handle, source+"-output-") {
		return -1
	}
	return i
}

func (g *Graph) validate() error {
	for _, n := range g.Nodes {
		if n.Kind == KindStart && n.Parent == "" {
			if g.Start != "" {
				return flowErr("the flow has two Start nodes, %s and %s; it needs exactly one", g.Start, n.ID)
			}
			g.Start = n.ID
		}
		if n.Parent != "" {
			p, ok := g.Node(n.Parent)
			if !ok || p.Kind != KindIteration {
				return flowErr("node %s sits inside %s, which is not an Iteration node", n.ID, n.Parent)
			}
		}
		if n.Kind == KindLoop {
			target, err := g.LoopTarget(n)
			if err != nil {
				return err
			}
			if t, _ := g.Node(target); t.Parent != n.Parent {
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
		s, _ := g.Node(e.Source)
		t, _ := g.Node(e.Target)
		if s.Parent != t.Parent {
			return flowErr("an edge joins %s to %s across an iteration's boundary", e.Source, e.Target)
		}
	}
	return g.acyclic()
}

// acyclic rejects cycles drawn with edges: repetition is what loop nodes are for.
func (g *Graph) acyclic() error {
	const (
		unseen = iota
		open
		closed
	)
	state := map[string]int{}
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case open:
			return flowErr("the flow has a cycle through %s; use a Loop node to repeat steps", id)
		case closed:
			return nil
		}
		state[id] = open
		for _, e := range g.Edges {
			if e.Source == id {
				if err := visit(e.Target); err != nil {
					return err
				}
			}
		}
		state[id] = closed
		return nil
	}
	for _, n := range g.Nodes {
		if err := visit(n.ID); err != nil {
			return err
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
	ref := loop.Input("loopBackToNode")
	id, _, _ := strings.Cut(ref, "-")
	if _, ok := g.Node(id); !ok || id == "" {
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

// Implemented are the kinds this version runs; the others parse, and a flow using them is
// refused before it starts.
var Implemented = []string{KindStart, KindLLM, KindCondition, KindLoop, KindDirectReply, KindCustomFunction, KindHTTP, KindHumanInput, KindIteration, KindAgent, KindConditionAgent, KindExecuteFlow, KindTool, KindRetriever}

// ImplementedTools are the agent tools this version runs.
var ImplementedTools = []string{"calculator", "currentDateTime", "requestsGet", "requestsPost", "requestsPut", "requestsDelete",
	"googleCustomSearch", "serpAPI", "gmail", "customTool", "openAPIToolkit", ToolChatflow, ToolAgent, ToolKnowledge}

// ToolModels are the chat models agents may call tools through: those whose API the llm
// package maps tool calls onto (llm.ChatWithTools).
var ToolModels = []string{"chatOpenAI", "azureChatOpenAI", "groqChat", "chatAnthropic", "chatGoogleGenerativeAI", "chatOllama", "chatMistralAI"}

// Unimplemented returns the first node (in file order) this version cannot run yet: one of
// a kind it does not run, or an Agent with knowledge or a tool it does not run.
func Unimplemented(g *Graph) (Node, bool) {
	for _, n := range g.Nodes {
		if !slices.Contains(Implemented, n.Kind) {
			return n, true
		}
		// Knowledge from a vector store and embeddings picked in the node (not a document store),
		// and the providers' own hosted tools (web search, code interpreter…).
		if n.Kind == KindAgent && (nonEmpty(n.Inputs["agentKnowledgeVSEmbeddings"]) || usesBuiltInTools(n)) {
			return n, true
		}
		for _, tool := range AgentTools(n) {
			if !slices.Contains(ImplementedTools, tool) {
				return n, true
			}
		}
		// Tool calling needs a provider whose API takes tools.
		if len(AgentTools(n)) > 0 && !slices.Contains(ToolModels, n.Input("agentModel")) {
			return n, true
		}
		// A Tool node runs one function of its tool: not a toolkit's many, nor another flow.
		if tool := n.Input("toolAgentflowSelectedTool"); n.Kind == KindTool &&
			(!slices.Contains(ImplementedTools, tool) || tool == "openAPIToolkit" || tool == ToolKnowledge || IsFlowTool(tool)) {
			return n, true
		}
	}
	return Node{}, false
}

// usesBuiltInTools reports an Agent that picked hosted tools of its provider
// (agentToolsBuiltInOpenAI, …Gemini, …Anthropic), a list or its JSON text.
func usesBuiltInTools(n Node) bool {
	for k, v := range n.Inputs {
		if !strings.HasPrefix(k, "agentToolsBuiltIn") {
			continue
		}
		if s, ok := v.(string); ok && s != "" && s != "[]" {
			return true
		}
		if nonEmpty(v) {
			return true
		}
	}
	return false
}

// nonEmpty reports a list input with at least one entry.
func nonEmpty(v any) bool {
	list, ok := v.([]any)
	return ok && len(list) > 0
}

// RunsAsActivity reports the kinds that are an activity; a loop is the workflow's own jump.
func RunsAsActivity(kind string) bool { return kind != KindLoop }

// CallsOut reports the kinds whose activity calls a model, a tool or the network: slow,
// costly and worth retrying on another worker, unlike the kinds that only compute.
func CallsOut(kind string) bool {
	switch kind {
	case KindLLM, KindAgent, KindConditionAgent, KindHTTP, KindCustomFunction, KindTool, KindRetriever, KindExecuteFlow:
		return true
	}
	return false
}
