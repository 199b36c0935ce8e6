package llmmock

import (
	"regexp"
	"slices"
)

// toolCall is a function call the mock answers with.
type toolCall struct{ name, arguments string }

// toolRequest is how a test asks the mock to call a tool: the last user message says
// "call <tool> with <JSON arguments>".
var toolRequest = regexp.MustCompile(`call (\w+) with (\{.*\})`)

// wantedTool returns the tool call the conversation asks for: only when the last message is
// the user's (after a tool's result the mock answers with it) and the tool is offered.
func wantedTool(msgs []Message, tools []string) *toolCall {
	if len(tools) == 0 || len(msgs) == 0 || msgs[len(msgs)-1].Role != "user" {
		return nil
	}
	m := toolRequest.FindStringSubmatch(msgs[len(msgs)-1].Content)
	if m == nil || !slices.Contains(tools, m[1]) {
		return nil
	}
	return &toolCall{name: m[1], arguments: m[2]}
}

// ToolAnswer is the mock's answer after a tool returned result.
func ToolAnswer(result string) string { return Answer("tool said " + result) }
