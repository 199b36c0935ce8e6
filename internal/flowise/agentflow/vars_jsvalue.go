package agentflow

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Flowise builds every text it hands to a node with JavaScript's String() and JSON.stringify,
// so the helpers here reproduce those conversions: the same number formatting ("1", not "1.0";
// "1e+21"), the same whitespace set for trim, the same truthiness. The one deliberate difference
// is object key order: JavaScript keeps insertion order, Go maps have none, so keys are sorted,
// which keeps the output identical on every replay of a workflow.

// varsIsJSSpace reports JavaScript's WhiteSpace and LineTerminator characters (what String.trim
// and parseFloat skip). It differs from unicode.IsSpace on U+0085 (not JS) and U+FEFF (JS).
func varsIsJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// varsJSTrim is String.prototype.trim.
func varsJSTrim(s string) string { return strings.TrimFunc(s, varsIsJSSpace) }

// varsJSNumber is JavaScript's Number.prototype.toString() for a float64.
func varsJSNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // also -0, which JavaScript prints as "0"
	}
	if abs := math.Abs(f); abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	// Go writes "1e+21" and "1e-07"; JavaScript drops the exponent's leading zeros.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}

// varsNumber returns v as a float64 when it is a Go or JSON number.
func varsNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	}
	return 0, false
}

// varsIsObject reports what JavaScript would call an object or array (not null): the values
// Flowise renders with JSON.stringify rather than String().
func varsIsObject(v any) bool {
	if v == nil {
		return false
	}
	switch v.(type) {
	case string, bool, json.Number:
		return false
	}
	if _, ok := varsNumber(v); ok {
		return false
	}
	return true
}

// varsJSString is String(v), except that objects and arrays become JSON (as Flowise does before
// it inserts them into text, to avoid "[object Object]").
func varsJSString(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	}
	if f, ok := varsNumber(v); ok {
		return varsJSNumber(f)
	}
	return varsJSON(v)
}

// varsJSTruthy is JavaScript truthiness.
func varsJSTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	}
	if f, ok := varsNumber(v); ok {
		return f != 0 && !math.IsNaN(f)
	}
	return true
}

// varsUTF16Len is a JavaScript string's length.
func varsUTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// varsJSON is compact JSON.stringify with map keys sorted. Values that are not plain JSON
// (structs, typed maps and slices) go through encoding/json first.
func varsJSON(v any) string {
	var b strings.Builder
	varsWriteJSON(&b, v)
	return b.String()
}

func varsWriteJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		varsWriteJSONString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			varsWriteJSONString(b, k)
			b.WriteByte(':')
			varsWriteJSON(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			varsWriteJSON(b, e)
		}
		b.WriteByte(']')
	default:
		if f, ok := varsNumber(v); ok {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				b.WriteString("null") // as JSON.stringify does
			} else {
				b.WriteString(varsJSNumber(f))
			}
			return
		}
		varsWriteJSON(b, varsPlain(v))
	}
}

// varsPlain turns any other Go value into plain JSON values (map[string]any, []any, float64…)
// so that paths and rendering only ever deal with those.
func varsPlain(v any) any {
	switch v.(type) {
	case nil, string, bool, map[string]any, []any:
		return v
	}
	if _, ok := varsNumber(v); ok {
		return v
	}
	// A pointer to nothing is JavaScript's null, not an error.
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map ||
		rv.Kind() == reflect.Slice || rv.Kind() == reflect.Interface) && rv.IsNil() {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil // channels, funcs: nothing JSON can say
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil
	}
	return out
}

// varsWriteJSONString quotes s as JSON.stringify does: no HTML escaping, \uXXXX only for
// control characters.
func varsWriteJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
