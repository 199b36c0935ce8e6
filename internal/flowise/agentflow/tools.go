package agentflow

import (
	"regexp"
	"strings"
)

// ToolEntry is one item of an Agent node's agentTools list.
type ToolEntry struct {
	Index  int            // position in agentTools, as AgentToolCall.Entry names it
	Kind   string         // agentSelectedTool, e.g. "requestsGet" or "customTool"
	Config map[string]any // agentSelectedToolConfig
	// RequiresHumanInput: the run asks a person before each call of this tool.
	RequiresHumanInput bool
}

// SourceDocumentsPrefix separates a retriever tool's text from the JSON of the documents it
// found (Flowise's SOURCE_DOCUMENTS_PREFIX): the workflow gives the model the text and reports
// the documents as the node's sourceDocuments.
const SourceDocumentsPrefix = "\n\n----FLOWISE_SOURCE_DOCUMENTS----\n\n"

// ToolKnowledge is the kind of the tool an agent gets for each of its document stores
// (agentKnowledgeDocumentStores), named after Flowise's retriever tool.
const ToolKnowledge = "retrieverTool"

// ToolEntries lists the tools an agent node offers its model, skipping empty rows: its
// agentTools, then a search tool per document store it knows (Config is then the knowledge
// entry: documentStore "<id>:<name>", docStoreDescription, returnSourceDocuments), numbered on
// after the agentTools.
func ToolEntries(n Node) []ToolEntry {
	list, _ := n.Inputs["agentTools"].([]any)
	var out []ToolEntry
	for i, item := range list {
		m, _ := item.(map[string]any)
		kind, _ := m["agentSelectedTool"].(string)
		if kind == "" {
			continue
		}
		cfg, _ := m["agentSelectedToolConfig"].(map[string]any)
		out = append(out, ToolEntry{Index: i, Kind: kind, Config: cfg, RequiresHumanInput: Truthy(m["agentSelectedToolRequiresHumanInput"])})
	}
	stores, _ := n.Inputs["agentKnowledgeDocumentStores"].([]any)
	for i, item := range stores {
		m, _ := item.(map[string]any)
		if ref, _ := m["documentStore"].(string); ref != "" {
			out = append(out, ToolEntry{Index: len(list) + i, Kind: ToolKnowledge, Config: m})
		}
	}
	return out
}

// AgentTools lists the kinds of tools an agent node offers its model.
func AgentTools(n Node) []string {
	var out []string
	for _, e := range ToolEntries(n) {
		out = append(out, e.Kind)
	}
	return out
}

// Truthy reads a Flowise boolean input, which exports as true, "true" or "" (unset).
func Truthy(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// toolNameStrip is what Flowise removes from a tool name once it is lower case with spaces
// as underscores: anything but [a-z0-9_-], which model APIs accept in function names.
var toolNameStrip = regexp.MustCompile(`[^a-z0-9_-]`)

// SanitizeToolName is Flowise's sanitizeToolName without its fallback: "" when nothing of the
// name is left, for the caller to replace.
func SanitizeToolName(name string) string {
	return toolNameStrip.ReplaceAllString(strings.ReplaceAll(strings.ToLower(name), " ", "_"), "")
}
