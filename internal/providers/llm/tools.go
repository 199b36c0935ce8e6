package llm

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Every tool-calling API describes a tool by name, description and JSON schema and returns
// calls with JSON arguments; they differ in where call ids live, whether arguments travel as
// text or as an object, and how the results of one step are grouped. The helpers here are
// the parts the providers share.

// toolProviders are the providers whose APIs can call tools; ChatWithTools refuses tools for
// any other, so a provider added later stays safe until its tool mapping exists.
var toolProviders = []string{providerOpenAI, providerAzure, providerGroq, providerAnthropic, providerGemini, providerOllama, providerMistral}

// functionDecl is a tool as Gemini's functionDeclarations and Ollama's functions spell it;
// the OpenAI and Anthropic SDK types are filled from it as well.
type functionDecl struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Parameters  map[string]any `json:"parameters,omitempty"`
}

// functionDecls decodes the tools' schemas once, so a malformed one fails as a configuration
// error (not retried) whichever provider is asked.
func functionDecls(tools []Tool) ([]functionDecl, error) {
	decls := make([]functionDecl, 0, len(tools))
	for _, t := range tools {
		var schema map[string]any
		if err := json.Unmarshal(t.Parameters, &schema); err != nil {
			return nil, fmt.Errorf("%w: tool %s: parameters are not a JSON schema: %v", errConfig, t.Name, err)
		}
		decls = append(decls, functionDecl{Name: t.Name, Description: t.Description, Parameters: schema})
	}
	return decls, nil
}

// callID is the id of the i-th call in one response: the provider's own, else call_<i>.
// Gemini (older models) and Ollama may send none, but a tool result must name its call.
func callID(id string, i int) string {
	if id != "" {
		return id
	}
	return "call_" + strconv.Itoa(i)
}

// argumentsText turns arguments that an API returned as a JSON object into
// ToolCall.Arguments; a call without arguments gets {} so it still parses as an object.
func argumentsText(args json.RawMessage) string {
	if len(args) == 0 || string(args) == "null" {
		return "{}"
	}
	return string(args)
}

// argumentsObject is the JSON object that APIs taking arguments as an object (Anthropic,
// Gemini, Ollama) expect when a call is sent back; a model that wrote anything else cannot
// be replayed, which no retry fixes.
func argumentsObject(tc ToolCall) (json.RawMessage, error) {
	if tc.Arguments == "" {
		return json.RawMessage("{}"), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(tc.Arguments), &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("%w: arguments of tool call %s (%s) are not a JSON object", errConfig, tc.ID, tc.Name)
	}
	return json.RawMessage(tc.Arguments), nil
}

// turns splits a conversation into the messages an API receives: every message stands
// alone, except that consecutive tool results form one turn, because Anthropic and Gemini
// want all the results of one step in a single user message.
func turns(msgs []Message) [][]Message {
	var out [][]Message
	for i, m := range msgs {
		if m.Role == RoleTool && i > 0 && msgs[i-1].Role == RoleTool {
			out[len(out)-1] = append(out[len(out)-1], m)
			continue
		}
		out = append(out, []Message{m})
	}
	return out
}
