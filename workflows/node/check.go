package node

import (
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// Unsupported is a node this version cannot run, and why.
type Unsupported struct {
	NodeID string
	Kind   string
	Reason string
}

func (u Unsupported) String() string {
	return fmt.Sprintf("%s (%s): %s", u.NodeID, u.Kind, u.Reason)
}

// UnsupportedError names every node of a flow this version cannot run, at once.
type UnsupportedError []Unsupported

func (e UnsupportedError) Error() string {
	parts := make([]string, len(e))
	for i, u := range e {
		parts[i] = u.String()
	}
	if len(e) == 1 {
		return "Flowgate cannot run node " + parts[0]
	}
	return fmt.Sprintf("Flowgate cannot run %d nodes of this flow: %s", len(e), strings.Join(parts, "; "))
}

// CheckAgentflow names every node of an agentflow this version cannot run, as an
// UnsupportedError: one of a kind it does not run, an Agent with a tool or knowledge it does not
// run or a model that cannot call tools, or a Tool node with a tool that cannot run on its own.
// Nil means the flow runs.
func CheckAgentflow(g *agentflow.Graph) error {
	var out UnsupportedError
	// The error stays within a few times the size of the flow: what is supported instead is
	// listed once, with the first node it explains, and a node's unsupported tools are named
	// in one entry. (Repeating the lists for each of many nodes, or a node's id for each of
	// its tools, made errors dozens of times the flow, or its square.)
	listed := map[string]bool{}
	refuse := func(n agentflow.Node, reason, supported string, names func() []string) {
		if supported != "" && !listed[supported] {
			listed[supported] = true
			reason += " (" + supported + ": " + strings.Join(names(), ", ") + ")"
		}
		out = append(out, Unsupported{NodeID: n.ID, Kind: n.Kind, Reason: reason})
	}
	for _, n := range g.Nodes {
		if !Is(n.Kind, AgentStep) {
			refuse(n, "this kind of node is not supported", "agentflow nodes", func() []string { return Names(AgentStep) })
			continue
		}
		if n.Kind == agentflow.KindAgent {
			// Knowledge from a vector store and embeddings picked in the node (not a document
			// store), and the providers' own hosted tools (web search, code interpreter…).
			if nonEmpty(n.Inputs["agentKnowledgeVSEmbeddings"]) {
				refuse(n, "knowledge from a vector store picked in the node is not supported; use a document store", "", nil)
			}
			if usesBuiltInTools(n) {
				refuse(n, "the provider's built-in tools are not supported", "", nil)
			}
		}
		tools := agentflow.AgentTools(n)
		var refused []string
		for _, tool := range tools {
			if !agentflowTool(tool) {
				refused = append(refused, tool)
			}
		}
		if len(refused) > 0 {
			reason := "tool " + refused[0] + " is not supported"
			if len(refused) > 1 {
				reason = "tools " + strings.Join(refused, ", ") + " are not supported"
			}
			refuse(n, reason, "tools", func() []string { return namesWhere(func(k Kind) bool { return agentflowTool(k.Name) }) })
		}
		if model := n.Input("agentModel"); len(tools) > 0 && !lookupIs(model, func(k Kind) bool { return k.CallsTools }) {
			refuse(n, fmt.Sprintf("model %q cannot call tools here", model), "tool-calling models", ToolModels)
		}
		if n.Kind == agentflow.KindTool {
			if tool := n.Input("toolAgentflowSelectedTool"); !lookupIs(tool, func(k Kind) bool { return k.ToolNode }) {
				refuse(n, fmt.Sprintf("a Tool node cannot run %q on its own", tool), "it can run", ToolNodeTools)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// usesBuiltInTools reports an Agent that picked hosted tools of its provider
// (agentToolsBuiltInOpenAI, …Gemini, …Anthropic), a list or its JSON text.
func usesBuiltInTools(n agentflow.Node) bool {
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

// agentflowTool reports a tool an agentflow Agent can offer: any but a chain tool, which
// offers a chain of a classic chatflow.
func agentflowTool(name string) bool {
	return Is(name, Tool, FlowTool) && name != chatflow.KindChainTool
}
