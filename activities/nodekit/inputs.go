package nodekit

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ScalarText is an input value that may arrive as a string, a number or a boolean, as text;
// false for anything else.
func ScalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// StringList reads a multi-option input, which Flowise saves as a list or as its JSON text.
func StringList(v any) []string {
	var out []string
	switch t := v.(type) {
	case []any:
		for _, s := range t {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
	case string:
		_ = json.Unmarshal([]byte(t), &out)
	}
	return out
}

// ConfigString reads one string setting of a node's or tool's configuration.
func ConfigString(cfg map[string]any, key string) string {
	v, _ := cfg[key].(string)
	return v
}

// ObjectInput reads an input that holds a JSON object, as Flowise saves one: the object, or
// its JSON text. Empty text, or no value, is no object (nil).
func ObjectInput(v any) (map[string]any, error) {
	switch t := v.(type) {
	case map[string]any:
		return t, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return nil, nil
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(t), &out); err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		return out, nil
	}
	return nil, nil
}
