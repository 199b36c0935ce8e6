package agentflow

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// Flowise reads every dotted reference ($flow.state.a.b, node.output.x[0].y, $form.k) with
// lodash's get, so the path rules here are lodash's: "a.b", "a[0]", "a['k']" and "a.0" all
// work, arrays and strings answer "length", and a key that itself contains dots wins when the
// object has it verbatim.

// varsSplitPath splits a lodash property path into its keys.
func varsSplitPath(path string) []string {
	var keys []string
	var cur strings.Builder
	// pending: a key has started, even an empty one (lodash reads "a..b" as "a","","b" and
	// ".a" as "","a").
	pending := strings.HasPrefix(path, ".")
	flush := func() {
		if pending || cur.Len() > 0 {
			keys = append(keys, cur.String())
		}
		cur.Reset()
		pending = false
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '.':
			flush()
			pending = true
		case c == '[':
			key, n, ok := varsBracketKey(path[i:])
			if !ok {
				cur.WriteByte(c)
				continue
			}
			flush()
			keys = append(keys, key)
			i += n - 1
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return keys
}

// varsBracketKey reads "[0]", "['k']" or "[\"k\"]" at the start of s: the key and the bytes used.
func varsBracketKey(s string) (string, int, bool) {
	if len(s) < 2 {
		return "", 0, false
	}
	if q := s[1]; q == '"' || q == '\'' {
		var key strings.Builder
		for i := 2; i < len(s); i++ {
			switch {
			case s[i] == '\\' && i+1 < len(s):
				i++
				key.WriteByte(s[i])
			case s[i] == q:
				if i+1 < len(s) && s[i+1] == ']' {
					return key.String(), i + 2, true
				}
				return "", 0, false
			default:
				key.WriteByte(s[i])
			}
		}
		return "", 0, false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", 0, false
	}
	return s[1:end], end + 1, true
}

// varsGet is lodash get: the value at path under root and whether it exists (JavaScript's
// undefined is "not found"; a nil found value is null).
func varsGet(root any, path string) (any, bool) {
	root = varsPlain(root)
	if m, ok := root.(map[string]any); ok {
		if v, ok := m[path]; ok {
			return v, true
		}
	}
	cur := root
	for _, key := range varsSplitPath(path) {
		next, ok := varsChild(cur, key)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

// varsChild is one step of a path: a map key, an array index, or a string's length/character.
func varsChild(v any, key string) (any, bool) {
	switch x := varsPlain(v).(type) {
	case map[string]any:
		child, ok := x[key]
		return child, ok
	case []any:
		if key == "length" {
			return float64(len(x)), true
		}
		if i, ok := varsIndex(key); ok && i < len(x) {
			return x[i], true
		}
	case string:
		units := utf16.Encode([]rune(x))
		if key == "length" {
			return float64(len(units)), true
		}
		if i, ok := varsIndex(key); ok && i < len(units) {
			return string(utf16.Decode(units[i : i+1])), true
		}
	}
	return nil, false
}

// varsIndex parses a canonical array index ("0", "12"; not "01" or "-1"), as JavaScript only
// treats those property names as indexes.
func varsIndex(key string) (int, bool) {
	if key == "" || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	i, err := strconv.Atoi(key)
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}
