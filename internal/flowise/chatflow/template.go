package chatflow

import (
	"encoding/json"
	"strings"
)

// TemplateVariables lists the single-brace variables of a LangChain f-string template, in order
// of first appearance. "{{" and "}}" are escaped braces.
func TemplateVariables(template string) []string {
	var names []string
	// A set, not a search of names: a template of many variables would cost its square.
	seen := map[string]bool{}
	_, _ = formatTemplate(template, func(name string) (string, bool) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		return "", true
	})
	return names
}

// FormatTemplate fills a LangChain f-string template. Every variable must have a value.
func FormatTemplate(template string, values map[string]string) (string, error) {
	return formatTemplate(template, func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	})
}

func formatTemplate(template string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case c == '{' && i+1 < len(template) && template[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(template) && template[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(template[i+1:], '}')
			if end < 0 {
				return "", errorf("prompt template has an unclosed '{' at position %d", i)
			}
			name := strings.TrimSpace(template[i+1 : i+1+end])
			v, ok := lookup(name)
			if !ok {
				return "", errorf("Please provide Prompt Values for: %s", name)
			}
			b.WriteString(v)
			i += end + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// PromptValues decodes a promptValues input: a JSON object (string or already decoded) whose
// values may contain variables. Values are resolved with vars.
func PromptValues(raw any, vars Vars) (map[string]string, error) {
	out := map[string]string{}
	var obj map[string]any
	switch t := raw.(type) {
	case nil:
		return out, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return out, nil
		}
		if err := json.Unmarshal([]byte(t), &obj); err != nil {
			return nil, errorf("promptValues is not a JSON object: %v", err)
		}
	case map[string]any:
		obj = t
	default:
		return nil, errorf("promptValues must be a JSON object, got %T", raw)
	}
	for k, v := range obj {
		out[k] = vars.Resolve(stringify(v))
	}
	return out, nil
}
