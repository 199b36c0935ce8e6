package chatnodes

import (
	"maps"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// messages are a prompt's messages with every value filled in.
func messages(p *node.Prompt, question string) ([]llm.Message, error) {
	if p.Template != "" {
		text, err := fill(p.Template, p.Values, question)
		if err != nil {
			return nil, err
		}
		return []llm.Message{{Role: llm.RoleUser, Content: text}}, nil
	}
	var msgs []llm.Message
	if p.System != "" {
		s, err := fill(p.System, p.Values, question)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: s})
	}
	h, err := fill(p.Human, p.Values, question)
	if err != nil {
		return nil, err
	}
	return append(msgs, llm.Message{Role: llm.RoleUser, Content: h}), nil
}

// fill formats a template with the prompt's values. When exactly one variable has no value,
// the question fills it, as Flowise's LLM chain does; when more are missing, the error names
// them all ("Please provide Prompt Values for: a, b"), as Flowise's does.
func fill(template string, values map[string]string, question string) (string, error) {
	var missing []string
	for _, name := range chatflow.TemplateVariables(template) {
		if _, ok := values[name]; !ok {
			missing = append(missing, name)
		}
	}
	switch len(missing) {
	case 0:
		return chatflow.FormatTemplate(template, values)
	case 1:
		withQuestion := map[string]string{missing[0]: question}
		maps.Copy(withQuestion, values)
		return chatflow.FormatTemplate(template, withQuestion)
	default:
		return "", &chatflow.Error{Msg: "Please provide Prompt Values for: " + strings.Join(missing, ", ")}
	}
}
