package zod

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// Check reports whether v (decoded JSON) matches a schema JSONSchema wrote, naming the first
// mismatch by its path as Zod's errors do. With defaults, missing properties that have one are
// filled in, as Zod's parse returns them.
func Check(schema json.RawMessage, v any) (any, error) {
	var s map[string]any
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, fmt.Errorf("unreadable schema: %v", err)
	}
	return check(s, v, "")
}

func check(s map[string]any, v any, path string) (any, error) {
	where := path
	if where == "" {
		where = "the answer"
	}
	if enum, ok := s["enum"].([]any); ok {
		if !slices.Contains(enum, v) {
			return nil, fmt.Errorf("%s: expected one of %v, got %v", where, enum, v)
		}
		return v, nil
	}
	bound := func(n int, minKey, maxKey, what string) error {
		if lo, ok := s[minKey].(float64); ok && float64(n) < lo {
			return fmt.Errorf("%s: must contain at least %v %s", where, lo, what)
		}
		if hi, ok := s[maxKey].(float64); ok && float64(n) > hi {
			return fmt.Errorf("%s: must contain at most %v %s", where, hi, what)
		}
		return nil
	}
	switch s["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected object, got %s", where, typeName(v))
		}
		props, _ := s["properties"].(map[string]any)
		required, _ := s["required"].([]any)
		out := make(map[string]any, len(props))
		for name, raw := range props {
			ps, _ := raw.(map[string]any)
			pv, present := obj[name]
			if !present || pv == nil {
				if d, ok := ps["default"]; ok {
					out[name] = d
					continue
				}
				if slices.Contains(required, any(name)) {
					return nil, fmt.Errorf("%s: required", join(path, name))
				}
				continue
			}
			cv, err := check(ps, pv, join(path, name))
			if err != nil {
				return nil, err
			}
			out[name] = cv
		}
		return out, nil
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: expected array, got %s", where, typeName(v))
		}
		if err := bound(len(arr), "minItems", "maxItems", "element(s)"); err != nil {
			return nil, err
		}
		items, _ := s["items"].(map[string]any)
		out := make([]any, len(arr))
		for i, e := range arr {
			cv, err := check(items, e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = cv
		}
		return out, nil
	case "string":
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: expected string, got %s", where, typeName(v))
		}
		return v, bound(utf8.RuneCountInString(str), "minLength", "maxLength", "character(s)")
	case "number", "integer":
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("%s: expected number, got %s", where, typeName(v))
		}
		if s["type"] == "integer" && f != math.Trunc(f) {
			return nil, fmt.Errorf("%s: expected integer, got float", where)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return nil, fmt.Errorf("%s: expected boolean, got %s", where, typeName(v))
		}
	}
	return v, nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}
