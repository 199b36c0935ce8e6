package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fuzzBound is how long one input may take: parsing is linear in the input and the budget,
// so anything near it is a finding.
const fuzzBound = 5 * time.Second

// fuzzBudget is far below Parse's so that small inputs reach it and the fuzzer explores both
// sides of it.
var fuzzBudget = budget{nodes: 2000, bytes: 16 << 10}

var toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// FuzzParse: specs come from flow authors and from whatever server an openApiLink names, and
// are parsed on every flow build. No document may make Parse panic or take long ($ref cycles
// and chains end), every failure is an "openapitool: " error, and the tools built are named
// uniquely and stay within what the resolving budget allows, however far the refs fan out.
// The tools' requests are built too. Run it with
//
//	go test ./internal/providers/openapi/ -run='^$' -fuzz='^FuzzParse$' -fuzztime=30s -fuzzminimizetime=2s
func FuzzParse(f *testing.F) {
	for _, name := range []string{"events.json", "events.yaml"} {
		b, err := os.ReadFile("testdata/" + name)
		require.NoError(f, err)
		f.Add(b)
	}
	const head = "openapi: 3.1.0\nservers: [{url: 'https://api.example.com/{v}', variables: {v: {default: x}}}]\npaths:\n"
	for _, s := range []string{
		// A cycle through two schemas, and one through the whole document.
		head + "  /a:\n    post:\n      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}\n" +
			"components:\n  schemas:\n    A: {properties: {b: {$ref: '#/components/schemas/B'}}}\n    B: {items: {$ref: '#/components/schemas/A'}}\n",
		head + "  /a:\n    get:\n      parameters: [{$ref: '#'}]\n",
		// Path items and operations that are refs, a chain of them, and a ref to itself.
		head + "  /a: {$ref: '#/paths/~1b'}\n  /b: {$ref: '#/paths/~1a'}\n",
		head + "  /a:\n    get: {$ref: '#/paths/~1a/get'}\n",
		// Fan-out: each level has three fields of the next.
		head + "  /a:\n    put:\n      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/L0'}}}}\n" +
			"components:\n  schemas:\n    L0: {properties: {a: {$ref: '#/components/schemas/L1'}, b: {$ref: '#/components/schemas/L1'}, c: {$ref: '#/components/schemas/L1'}}}\n" +
			"    L1: {properties: {a: {$ref: '#/components/schemas/L2'}, b: {$ref: '#/components/schemas/L2'}, c: {$ref: '#/components/schemas/L2'}}}\n" +
			"    L2: {type: string, description: a long description, enum: [a, b, 1.5, {x: y}]}\n",
		// YAML anchors, and parameters sharing a name and location, or with a location that is no
		// string (comparing two of those used to panic).
		head + "  /a:\n    parameters: [&p {name: id, in: path, schema: {type: integer}}]\n    get:\n      parameters: [*p, {name: id, in: query}, {name: q, in: {}}, {name: q, in: {}}]\n",
		// Repeated and long operation ids.
		head + "  /a: {get: {operationId: x}, post: {operationId: x}, put: {operationId: x_2}}\n  /b: {get: {operationId: x}}\n" +
			"  /c: {get: {operationId: " + strings.Repeat("n", 70) + "}, post: {operationId: " + strings.Repeat("n", 70) + "}}\n",
		// readOnly properties left out of required.
		head + "  /a:\n    patch:\n      requestBody: {required: true, content: {application/merge-patch+json: {schema: {required: [id, n], properties: {id: {readOnly: true}, n: {type: number}}}}}}\n",
		`{"openapi":"3.0.0","paths":{"/x/{id}":{"delete":{"parameters":[{"name":"id","in":"path"}]}}}}`,
		"swagger: '2.0'\n",
		"openapi: 3.0.0\npaths: []\n",
		"- a\n",
		`{"openapi": 3}`,
		"",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		type result struct {
			spec  *Spec
			err   error
			panic any
			stack []byte
		}
		start := time.Now()
		done := make(chan result, 1)
		go func() {
			// A panic fails the test with its stack, rather than ending the fuzzing process.
			defer func() {
				if r := recover(); r != nil {
					done <- result{panic: r, stack: debug.Stack()}
				}
			}()
			s, err := parse(data, fuzzBudget)
			done <- result{spec: s, err: err}
		}()
		var res result
		select {
		case res = <-done:
		case <-time.After(fuzzBound):
			t.Fatalf("Parse still running after %v", fuzzBound)
		}
		if res.panic != nil {
			t.Fatalf("panic: %v\n%s", res.panic, res.stack)
		}
		if res.err != nil {
			require.Nil(t, res.spec)
			require.True(t, strings.HasPrefix(res.err.Error(), "openapitool: "), res.err.Error())
			return
		}
		checkSpec(t, res.spec, len(data), fuzzBudget)
		require.Less(t, time.Since(start), fuzzBound)
	})
}

// checkSpec checks what parse promises of a spec of inputLen bytes it accepts with limit.
func checkSpec(t *testing.T, s *Spec, inputLen int, limit budget) {
	t.Helper()
	names := map[string]bool{}
	params := 0
	for _, op := range s.ops {
		require.Regexp(t, toolName, op.Name)
		require.False(t, names[op.Name], "tool name %q given twice", op.Name)
		names[op.Name] = true
		require.Contains(t, methods, strings.ToLower(op.Method))
		var schema map[string]any
		require.NoError(t, json.Unmarshal(op.Parameters, &schema))
		require.Equal(t, "object", schema["type"])
		params += len(op.Parameters)
	}
	// Everything in the tools' parameters was copied under the budget: at most six bytes
	// of JSON per byte of text (\u00XX escapes), three times over (an enum is also listed in
	// the description; a parameter name is a key and in required), plus room for each value
	// (a number, punctuation) and for each operation's own wrapping.
	bound := 18*limit.bytes + 96*limit.nodes + 256*len(s.ops)
	require.LessOrEqual(t, params, bound, "tool parameters outgrow the resolving budget")

	for _, u := range s.servers {
		// Variables filled in within the bound, or the URL as written.
		require.LessOrEqual(t, len(u), max(maxServerURLLen, inputLen))
	}
	ops, err := s.Operations("")
	if err != nil {
		return
	}
	for _, op := range ops {
		args := map[string]any{}
		for _, group := range []struct {
			name   string
			params []param
		}{{"PathParameters", op.pathParams}, {"QueryParameters", op.queryParams}} {
			values := map[string]any{}
			for _, p := range group.params {
				values[p.name] = "v/1"
			}
			args[group.name] = values
		}
		if op.body != nil {
			args["RequestBody"] = map[string]any{"k": 1.0}
		}
		call, err := op.Request(args, map[string]string{"X-A": "b"}, true)
		if err != nil {
			require.True(t, errors.Is(err, ErrInvalidArguments), "%v", err)
			continue
		}
		require.True(t, strings.HasPrefix(call.URL, op.BaseURL), fmt.Sprintf("%q outside %q", call.URL, op.BaseURL))
		_ = call.Inputs()
	}
}
