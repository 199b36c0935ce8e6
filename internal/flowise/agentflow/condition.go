package agentflow

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Condition is one entry of a conditionAgentflow node's `conditions` input, with value1/value2
// already resolved to strings (VarsScope.ResolveAny on the raw input, then ParseConditions).
type Condition struct {
	Type      string `json:"type"` // "string" (also the default for anything else), "number", "boolean"
	Value1    string `json:"value1"`
	Operation string `json:"operation"`
	Value2    string `json:"value2"`
}

// Condition types of Flowise's Condition node.
const (
	ConditionString  = "string"
	ConditionNumber  = "number"
	ConditionBoolean = "boolean"
)

// ErrUnknownOperation is returned for an operation the condition's type does not have; Flowise
// fails the node the same way (it calls an undefined comparison function).
var ErrUnknownOperation = errors.New("unknown condition operation")

// ParseConditions reads a conditionAgentflow node's inputs["conditions"]: a JSON array of
// {type, value1, operation, value2} objects, or that array as JSON text (Flowise accepts both).
// Numbers and booleans (the editor stores boolean and number values unquoted) become their
// JavaScript text; a missing value is "".
func ParseConditions(raw any) ([]Condition, error) {
	if text, ok := raw.(string); ok {
		if err := json.Unmarshal([]byte(text), &raw); err != nil {
			return nil, fmt.Errorf("conditions: not a JSON array: %w", err)
		}
	}
	list, ok := varsPlain(raw).([]any)
	if !ok {
		return nil, fmt.Errorf("conditions: want an array, got %s", condKind(raw))
	}
	conds := make([]Condition, 0, len(list))
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("conditions[%d]: want an object, got %s", i, condKind(item))
		}
		conds = append(conds, Condition{
			Type:      condField(obj, "type"),
			Value1:    condField(obj, "value1"),
			Operation: condField(obj, "operation"),
			Value2:    condField(obj, "value2"),
		})
	}
	return conds, nil
}

// condField is obj[key] as text; absent and null are "".
func condField(obj map[string]any, key string) string {
	v, ok := obj[key]
	if !ok || v == nil {
		return ""
	}
	return varsJSString(v)
}

func condKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	}
	if _, ok := varsNumber(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// ChooseBranches returns the output handles a Condition node enables: exactly one. Flowise
// evaluates the conditions in order and stops at the first fulfilled one (later conditions are
// never evaluated, so even an invalid one after it does no harm); when none is fulfilled the
// extra last output, the else branch at index len(conds), is taken. An empty list therefore
// takes the else branch, output 0.
func ChooseBranches(conds []Condition) ([]int, error) {
	for i, c := range conds {
		ok, err := EvalCondition(c)
		if err != nil {
			return nil, fmt.Errorf("condition %d: %w", i, err)
		}
		if ok {
			return []int{i}, nil
		}
	}
	return []int{len(conds)}, nil
}
