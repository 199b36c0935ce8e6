package chatflow

import (
	"regexp"
	"strings"
)

// Vars is what a string input may refer to with Flowise's double-brace syntax.
type Vars struct {
	Question    string
	ChatHistory string
	Vars        map[string]string // {{$vars.name}}
	Flow        map[string]string // {{$flow.sessionId}}, chatId, chatflowId
	Outputs     map[string]string // {{nodeId.data.instance}}: the text result of another node
}

var varPattern = regexp.MustCompile(`\{\{\s*([^{}]+?)\s*\}\}`)

// Resolve replaces every reference it knows in s; unknown references are left as written so a
// prompt that contains literal braces is not mangled.
func (v Vars) Resolve(s string) string { return v.resolve(s, true) }

// ResolveGlobals replaces only {{$vars.*}} and {{$flow.*}}: what may appear in any string input
// of any node, leaving {{question}} and node references to the nodes that give them meaning.
func (v Vars) ResolveGlobals(s string) string { return v.resolve(s, false) }

func (v Vars) resolve(s string, all bool) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return varPattern.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-2])
		global := strings.HasPrefix(name, "$vars.") || strings.HasPrefix(name, "$flow.")
		if !all && !global {
			return m
		}
		switch {
		case name == "question":
			return v.Question
		case name == "chat_history":
			return v.ChatHistory
		case strings.HasPrefix(name, "$vars."):
			if val, ok := v.Vars[strings.TrimPrefix(name, "$vars.")]; ok {
				return val
			}
		case strings.HasPrefix(name, "$flow."):
			if val, ok := v.Flow[strings.TrimPrefix(name, "$flow.")]; ok {
				return val
			}
		}
		if id, ok := instanceRef("{{" + name + "}}"); ok {
			if val, ok := v.Outputs[id]; ok {
				return val
			}
		}
		return m
	})
}
