package docstore

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
)

// SourceDocumentsPrefix separates a retriever tool's text from the JSON of its documents when
// the agent asked for source documents (Flowise's SOURCE_DOCUMENTS_PREFIX).
const SourceDocumentsPrefix = agentflow.SourceDocumentsPrefix

// ParseStoreRef splits an agentflow knowledge reference, "<storeId>:<storeName>", at the first
// colon, as Flowise does.
func ParseStoreRef(ref string) (id, name string) {
	id, name, _ = strings.Cut(ref, ":")
	return id, name
}

// ToolName is the name an Agent gives the retriever tool of a document store (Flowise's
// sanitizeToolName): lower case, spaces as underscores, only [a-z0-9_-], at most 64
// characters. Flowise falls back to a random name when nothing is left; this fallback is
// derived from the store id instead, so a replayed run offers the model the same tool.
func ToolName(storeName, storeID string) string {
	s := agentflow.SanitizeToolName(storeName)
	if s == "" {
		s = "tool_" + agentflow.SanitizeToolName(storeID)
	}
	return s[:min(len(s), 64)]
}

// ToolInputSchema is the retriever tool's parameters: {input: string}.
const ToolInputSchema = `{"type":"object","properties":{"input":{"type":"string","description":"input to look up in retriever"}},"required":["input"],"additionalProperties":false}`

// ToolOutput is what the retriever tool returns to the model: the chunks' text joined by blank
// lines, followed by the documents as JSON when returnSourceDocuments is set.
func ToolOutput(docs []Document, returnSourceDocuments bool) (string, error) {
	parts := make([]string, len(docs))
	for i, d := range docs {
		parts[i] = d.PageContent
	}
	content := strings.Join(parts, "\n\n")
	if !returnSourceDocuments {
		return content, nil
	}
	b, err := json.Marshal(sourceDocuments(docs))
	if err != nil {
		return "", fmt.Errorf("encode source documents: %w", err)
	}
	return content + SourceDocumentsPrefix + string(b), nil
}

// RetrieverOutput is the retrieverAgentflow node's output content: with outputFormat "text" the
// chunks' text joined by newlines; with "textWithMetadata" the documents as indented JSON.
func RetrieverOutput(docs []Document, outputFormat string) (string, error) {
	switch outputFormat {
	case "", "text":
		parts := make([]string, len(docs))
		for i, d := range docs {
			parts[i] = d.PageContent
		}
		return strings.Join(parts, "\n"), nil
	case "textWithMetadata":
		b, err := json.MarshalIndent(sourceDocuments(docs), "", "  ")
		if err != nil {
			return "", fmt.Errorf("encode documents: %w", err)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("%w: outputFormat %q (use text or textWithMetadata)", ErrInvalid, outputFormat)
}

// SourceDocument is a LangChain document as Flowise serialises it.
type SourceDocument struct {
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
}

func sourceDocuments(docs []Document) []SourceDocument {
	out := make([]SourceDocument, len(docs))
	for i, d := range docs {
		md := d.Metadata
		if md == nil {
			md = map[string]any{}
		}
		out[i] = SourceDocument{PageContent: d.PageContent, Metadata: md}
	}
	return out
}
