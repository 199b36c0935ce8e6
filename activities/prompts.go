package activities

import (
	"context"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// vars is what string inputs of a node may refer to: the question, the flow's ids and variables,
// and the text results of the nodes wired into it.
func vars(req node.Request) chatflow.Vars {
	outputs := map[string]string{}
	for id, v := range req.Upstream {
		if v.Text != nil {
			outputs[id] = *v.Text
		}
	}
	return chatflow.Vars{
		Question: req.Run.Question,
		Vars:     req.Run.Vars,
		Flow: map[string]string{
			"sessionId":  req.Run.SessionID,
			"chatId":     req.Run.ChatID,
			"chatflowId": req.Run.ChatflowID,
		},
		Outputs: outputs,
	}
}

func (a *Activities) promptTemplate(_ context.Context, req node.Request) (node.Value, error) {
	values, err := chatflow.PromptValues(req.Node.Data.Inputs["promptValues"], vars(req))
	if err != nil {
		return node.Value{}, classify(err)
	}
	tmpl := req.Node.Input("template")
	if tmpl == "" {
		return node.Value{}, flowError("%s: the prompt template is empty", req.Node.ID)
	}
	return node.Value{Kind: req.Node.Data.Name, Prompt: &node.Prompt{Template: tmpl, Values: values}}, nil
}

func (a *Activities) chatPromptTemplate(_ context.Context, req node.Request) (node.Value, error) {
	values, err := chatflow.PromptValues(req.Node.Data.Inputs["promptValues"], vars(req))
	if err != nil {
		return node.Value{}, classify(err)
	}
	p := &node.Prompt{
		System: req.Node.Input("systemMessagePrompt"),
		Human:  req.Node.Input("humanMessagePrompt"),
		Values: values,
	}
	if p.Human == "" {
		return node.Value{}, flowError("%s: the human message prompt is empty", req.Node.ID)
	}
	return node.Value{Kind: req.Node.Data.Name, Prompt: p}, nil
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
		withQuestion := make(map[string]string, len(values)+1)
		for k, v := range values {
			withQuestion[k] = v
		}
		withQuestion[missing[0]] = question
		return chatflow.FormatTemplate(template, withQuestion)
	default:
		return "", &chatflow.Error{Msg: "Please provide Prompt Values for: " + strings.Join(missing, ", ")}
	}
}
