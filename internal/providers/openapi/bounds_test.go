package openapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fanOut is a spec whose request body has width fields of a schema that has width fields of
// the next, levels deep, down to leaf (named key).
func fanOut(key, leaf string, levels, width int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"openapi":"3.0.0","servers":[{"url":"http://x"}],"components":{"schemas":{%q:%s,"L0":{"properties":{"b":{"$ref":"#/components/schemas/%s"}}}`, key, leaf, key)
	for l := 1; l <= levels; l++ {
		fmt.Fprintf(&b, `,"L%d":{"properties":{`, l)
		for i := range width {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"p%d":{"$ref":"#/components/schemas/L%d"}`, i, l-1)
		}
		b.WriteString("}}")
	}
	fmt.Fprintf(&b, `}},"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/L%d"}}}}}}}}`, levels)
	return b.String()
}

// Specs that used to take minutes or gigabytes from a few MB or less (times measured before
// the fix on a 2-core machine). Each must now be read within a few seconds, and what it makes
// must stay small.
func TestHostileSpecs(t *testing.T) {
	many := func(n int, item func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = item(i)
		}
		return strings.Join(parts, ",")
	}
	const head = `{"openapi":"3.0.0","servers":[{"url":"http://x"}],`
	tests := []struct {
		name, spec, err string
	}{
		// Tool names were made unique by trying name_2, name_3, … from 2 each time (23 s).
		{"20,000 operations of one name", head + `"paths":{` + many(20000, func(i int) string {
			return fmt.Sprintf(`"/%d":{"get":{"operationId":"x"}}`, i)
		}) + "}}", ""},
		// Each parameter was looked for among all the previous ones (15 s).
		{"40,000 parameters", head + `"paths":{"/a":{"get":{"parameters":[` + many(40000, func(i int) string {
			return fmt.Sprintf(`{"name":"p%d","in":"query"}`, i)
		}) + "]}}}}", ""},
		// Each required name was looked for among all the readOnly properties (24 s).
		{"60,000 readOnly properties and required names", head + `"paths":{"/a":{"post":{"requestBody":{"content":{"application/json":{"schema":{"properties":{` +
			many(60000, func(i int) string { return fmt.Sprintf(`"r%d":{"readOnly":true}`, i) }) + `},"required":[` +
			many(60000, func(i int) string { return fmt.Sprintf(`"q%d"`, i) }) + "]}}}}}}}}", ""},
		// A 1 MB ref was looked up again at each of its 250,000 expansions (42 s).
		{"a long ref fanned out", fanOut(strings.Repeat("k", 1<<20), `{"type":"string"}`, 5, 10), "is longer than 1024 bytes"},
		// Copies share a string, the tools' JSON does not: 1 GB of parameters (22 s).
		{"a long description fanned out", fanOut("K", `{"type":"string","description":"`+strings.Repeat("d", 1<<20)+`"}`, 3, 10), "bytes of text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			s, err := Parse([]byte(tt.spec))
			require.Less(t, time.Since(start), 5*time.Second)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			checkSpec(t, s, len(tt.spec), specBudget)
		})
	}
}

// Server variables repeated in a URL multiplied the default's length by theirs: 40 KB made a
// 100 MB URL. Past 8 KB the URL stays as written.
func TestServerURLBound(t *testing.T) {
	spec := `{"openapi":"3.0.0","servers":[{"url":"http://` + strings.Repeat("{v}", 10000) + `","variables":{"v":{"default":"` +
		strings.Repeat("d", 10000) + `"}}},{"url":"https://{h}/{v}","variables":{"h":{"default":"api.example.com"},"v":{"default":"v1"}}}],"paths":{}}`
	s, err := Parse([]byte(spec))
	require.NoError(t, err)
	require.Equal(t, []string{"http://" + strings.Repeat("{v}", 10000), "https://api.example.com/v1"}, s.Servers())
}

// Operation names that repeat past the width of their suffix, or fill the 64 characters, get
// the lowest free number, as when every number was tried in turn.
func TestToolNamesRepeated(t *testing.T) {
	long := strings.Repeat("n", 64)
	var ops []Operation
	for _, name := range []string{"x", "x_3", long, long[:62] + "_2"} {
		for range 12 {
			ops = append(ops, Operation{Name: name})
		}
	}
	want := make([]Operation, len(ops))
	copy(want, ops)
	nameToolsSlowly(want)
	nameTools(ops)
	require.Equal(t, want, ops)
	seen := map[string]bool{}
	for _, op := range ops {
		require.False(t, seen[op.Name], op.Name)
		require.Regexp(t, toolName, op.Name)
		seen[op.Name] = true
	}
}

// nameToolsSlowly is nameTools as it was, quadratic: the reference for its results.
func nameToolsSlowly(ops []Operation) {
	used := map[string]bool{}
	for i := range ops {
		base, name := ops[i].Name, ops[i].Name
		for n := 2; used[name]; n++ {
			suffix := fmt.Sprintf("_%d", n)
			name = base[:min(len(base), maxNameLen-len(suffix))] + suffix
		}
		used[name] = true
		ops[i].Name = name
	}
}
