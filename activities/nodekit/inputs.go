package nodekit

import (
	"encoding/json"
	"strconv"
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
