package llmmock

import (
	"encoding/json"
	"sort"
	"strings"
)

// SchemaAnswer is the mock's answer to a request for JSON matching schema: an object with
// every property filled in predictably (the first enum value, "mock <name>" for strings, 1,
// true, one array item), so tests know what a structured answer will hold.
func SchemaAnswer(schema []byte) string { return schemaAnswer(schema, "") }

// schemaAnswer is SchemaAnswer for a conversation whose last user message is said: an enum
// takes the first of its values that message mentions, so a test steers a choice (a
// condition agent's scenario) by naming it.
func schemaAnswer(schema []byte, said string) string {
	var s map[string]any
	if err := json.Unmarshal(schema, &s); err != nil {
		return "{}"
	}
	out, err := json.Marshal(schemaValue("value", s, strings.ToLower(said)))
	if err != nil {
		return "{}"
	}
	return string(out)
}

func schemaValue(name string, s map[string]any, said string) any {
	if enum, _ := s["enum"].([]any); len(enum) > 0 {
		for _, v := range enum {
			if text, ok := v.(string); ok && said != "" && strings.Contains(said, strings.ToLower(text)) {
				return v
			}
		}
		return enum[0]
	}
	switch s["type"] {
	case "object":
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		obj := make(map[string]any, len(props))
		for _, k := range keys {
			p, _ := props[k].(map[string]any)
			obj[k] = schemaValue(k, p, said)
		}
		return obj
	case "array":
		items, _ := s["items"].(map[string]any)
		return []any{schemaValue(name, items, said)}
	case "number", "integer":
		return 1
	case "boolean":
		return true
	default:
		return "mock " + name
	}
}

// SchemaInstruction starts the system message with which a client asks a model without a
// structured-output parameter for JSON (Flowgate's llm package sends it to such providers).
const SchemaInstruction = "Answer with one JSON object, and nothing else, that matches this JSON schema: "

// instructedSchema finds a schema asked for by instruction.
func instructedSchema(msgs []Message) json.RawMessage {
	for _, m := range msgs {
		if m.Role != "system" || !strings.HasPrefix(m.Content, SchemaInstruction) {
			continue
		}
		// Providers with one system prompt join the instruction with the flow's own.
		var schema json.RawMessage
		if json.NewDecoder(strings.NewReader(strings.TrimPrefix(m.Content, SchemaInstruction))).Decode(&schema) == nil {
			return schema
		}
	}
	return nil
}
