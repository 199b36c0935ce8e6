package agentflow

import (
	"encoding/json"
	"fmt"
	"strings"
)

// OutputSchema turns a node's structured output list (Flowise's llmStructuredOutput:
// [{key, type, enumValues, jsonSchema, description}]) into the JSON schema of the object the
// model must answer with; nil when the list is empty.
func OutputSchema(entries any) (json.RawMessage, error) {
	list, _ := entries.([]any)
	if len(list) == 0 {
		return nil, nil
	}
	props := map[string]any{}
	var required []string
	for _, raw := range list {
		e, _ := raw.(map[string]any)
		key, _ := e["key"].(string)
		if key == "" {
			return nil, fmt.Errorf("a structured output entry has no key")
		}
		typ, _ := e["type"].(string)
		desc, _ := e["description"].(string)
		prop := map[string]any{"description": desc}
		switch typ {
		case "string", "":
			prop["type"] = "string"
		case "stringArray":
			prop["type"], prop["items"] = "array", map[string]any{"type": "string"}
		case "number":
			prop["type"] = "number"
		case "boolean":
			prop["type"] = "boolean"
		case "enum":
			values, _ := e["enumValues"].(string)
			var enum []string
			for _, v := range strings.Split(values, ",") {
				if v = strings.TrimSpace(v); v != "" {
					enum = append(enum, v)
				}
			}
			if len(enum) == 0 {
				return nil, fmt.Errorf("structured output %q is an enum without values", key)
			}
			prop["type"], prop["enum"] = "string", enum
		case "jsonArray":
			schema, _ := e["jsonSchema"].(string)
			var itemProps map[string]any
			if err := json.Unmarshal([]byte(schema), &itemProps); err != nil {
				return nil, fmt.Errorf("structured output %q: jsonSchema is not a JSON object: %v", key, err)
			}
			prop["type"], prop["items"] = "array", map[string]any{"type": "object", "properties": itemProps}
		default:
			return nil, fmt.Errorf("structured output %q has unknown type %q", key, typ)
		}
		props[key] = prop
		required = append(required, key)
	}
	return json.Marshal(map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false})
}

// ParseStructured reads a model's structured answer: one JSON object, possibly fenced as
// ```json … ``` by models that wrap their answers.
func ParseStructured(answer string) (map[string]any, error) {
	s := strings.TrimSpace(answer)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "```json"), "```")
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("the model's answer is not the JSON object asked for: %v", err)
	}
	return out, nil
}
