package agentflow

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FormQuestion is how a Start node's form input reaches the model and the chat history: one
// "key: value" line per field, as Flowise writes it (a JavaScript template string over the
// parsed object's entries). Flowise keeps the fields in JavaScript's property order, so raw
// must be the form's JSON as the client sent it: a Go map would lose its order.
func FormQuestion(raw []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", errors.New("the form is not a JSON object")
	}
	var keys []string
	values := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("read the form: %w", err)
		}
		key, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return "", fmt.Errorf("read the form's %q: %w", key, err)
		}
		// A repeated key keeps its first place and its last value, as JSON.parse does.
		if _, seen := values[key]; !seen {
			keys = append(keys, key)
		}
		values[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return "", fmt.Errorf("read the form: %w", err)
	}
	lines := make([]string, 0, len(keys))
	for _, k := range jsPropertyOrder(keys) {
		lines = append(lines, k+": "+jsTemplateString(values[k]))
	}
	return strings.Join(lines, "\n"), nil
}

// jsPropertyOrder orders an object's keys as JavaScript enumerates them: array-index keys
// ("0", "7", canonical integers below 2^32-1) first in ascending order, then the others in the
// order they were added.
func jsPropertyOrder(keys []string) []string {
	index := func(k string) (uint64, bool) {
		n, err := strconv.ParseUint(k, 10, 32)
		return n, err == nil && n < 1<<32-1 && strconv.FormatUint(n, 10) == k
	}
	var indexes, names []string
	for _, k := range keys {
		if _, ok := index(k); ok {
			indexes = append(indexes, k)
		} else {
			names = append(names, k)
		}
	}
	slices.SortFunc(indexes, func(a, b string) int {
		x, _ := index(a)
		y, _ := index(b)
		return cmp.Compare(x, y)
	})
	return append(indexes, names...)
}

// jsTemplateString is String(v) as a JavaScript template string writes a parsed JSON value:
// an array as its items joined with commas (null items empty), an object as
// "[object Object]". (Flowise's variables render objects as JSON instead; varsJSString.)
func jsTemplateString(v any) string {
	switch x := v.(type) {
	case []any:
		items := make([]string, len(x))
		for i, item := range x {
			if item != nil {
				items[i] = jsTemplateString(item)
			}
		}
		return strings.Join(items, ",")
	case map[string]any:
		return "[object Object]"
	}
	return varsJSString(v)
}
