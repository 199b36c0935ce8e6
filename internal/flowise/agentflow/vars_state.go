package agentflow

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// $flow.state starts from the Start node's startState list and changes through each node's
// …UpdateState list ([{key, value}], e.g. llmUpdateState). In Flowise a node's update values are
// resolved like any input before the node runs; after it runs the values are merged over the
// state, and then {{ output }} / {{ output.<path> }} in state values are replaced with what the
// node produced (processTemplateVariables in Flowise's packages/components/src/utils.ts). The
// functions here never change the maps they are given.

// InitialState builds $flow.state from the Start node's startState input: a list of
// {key, value} objects, or that list as JSON text ("" or nil: empty state). Values are kept as
// given; Flowise resolves no variables in them. Entries without a key are skipped, and an entry
// without a value leaves its key unset. Invalid JSON text is an error, as in Flowise.
func InitialState(startState any) (map[string]any, error) {
	entries, err := varsKeyValues(startState)
	if err != nil {
		return nil, fmt.Errorf("startState: %w", err)
	}
	state := make(map[string]any, len(entries))
	for _, e := range entries {
		if e.hasValue {
			state[e.key] = e.value
		}
	}
	return state, nil
}

// ApplyStateUpdates returns state with a node's …UpdateState entries applied in order (a later
// entry for the same key wins). Each value is resolved with scope (ResolveAny: a value that is
// exactly one {{ node.output.path }} keeps its type). References to the node's own result,
// {{ output }} and {{ output.<path> }}, are unknown to the scope and stay for
// ApplyOutputToState. updates may be nil or "" (no change) or JSON text of the list.
func ApplyStateUpdates(state map[string]any, updates any, scope VarsScope) (map[string]any, error) {
	entries, err := varsKeyValues(updates)
	if err != nil {
		return nil, fmt.Errorf("state updates: %w", err)
	}
	next := make(map[string]any, len(state)+len(entries))
	for k, v := range state {
		next[k] = v
	}
	for _, e := range entries {
		// Flowise writes even a missing value (as undefined); here that is null.
		next[e.key] = scope.ResolveAny(e.value)
	}
	return next, nil
}

// varsOutputPathRef is Flowise's pattern for {{ output.<path> }} in a state value.
var varsOutputPathRef = regexp.MustCompile(`\{\{\s*output\.([A-Za-z0-9_.]+)\s*\}\}`)

// ApplyOutputToState replaces references to a node's result in every string value of state,
// as Flowise does after each LLM, Agent, Tool, Retriever, Custom Function and Execute Flow node
// run, output being that node's final text (or value):
//
//   - a value that is exactly "{{ output }}" or "{{output}}" becomes output itself;
//   - a value holding {{ output.<path> }} becomes the value at <path> in output (JSON text is
//     parsed first) — the whole value, not just the reference — or stays as it was when output
//     is not JSON or has nothing at <path>;
//   - otherwise each literal "{{ output }}" inside the text is replaced by output as text.
func ApplyOutputToState(state map[string]any, output any) map[string]any {
	next := make(map[string]any, len(state))
	// Each key is rewritten on its own, so map order cannot change the result.
	for k, v := range state {
		next[k] = v
		text, ok := v.(string)
		if !ok || (!strings.Contains(text, "{{ output") && !strings.Contains(text, "{{output")) {
			continue
		}
		if text == "{{ output }}" || text == "{{output}}" {
			next[k] = output
			continue
		}
		if m := varsOutputPathRef.FindStringSubmatch(text); m != nil {
			if v, ok := varsOutputValue(output, m[1]); ok {
				next[k] = v
			}
			continue
		}
		next[k] = strings.ReplaceAll(text, "{{ output }}", varsJSString(output))
	}
	return next
}

// varsOutputValue reads path in a node's result, parsing it first when it is JSON text. A
// missing or null value is "not found", so the state keeps its template.
func varsOutputValue(output any, path string) (any, bool) {
	if text, ok := output.(string); ok {
		if err := json.Unmarshal([]byte(text), &output); err != nil {
			return nil, false
		}
	}
	v, ok := varsGet(output, path)
	if !ok || v == nil {
		return nil, false
	}
	return v, true
}

// varsKeyValue is one {key, value} entry of startState or an …UpdateState list.
type varsKeyValue struct {
	key      string
	value    any
	hasValue bool
}

// varsKeyValues reads a [{key, value}] list given as a slice or as JSON text.
func varsKeyValues(raw any) ([]varsKeyValue, error) {
	if text, ok := raw.(string); ok {
		if strings.TrimSpace(text) == "" {
			return nil, nil
		}
		if err := json.Unmarshal([]byte(text), &raw); err != nil {
			return nil, fmt.Errorf("not a JSON list: %w", err)
		}
	}
	raw = varsPlain(raw)
	if raw == nil {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of {key, value}, got %s", condKind(raw))
	}
	entries := make([]varsKeyValue, 0, len(list))
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("entry %d: want a {key, value} object, got %s", i, condKind(item))
		}
		key, _ := obj["key"].(string)
		if key == "" {
			continue
		}
		value, hasValue := obj["value"]
		entries = append(entries, varsKeyValue{key: key, value: value, hasValue: hasValue})
	}
	return entries, nil
}
