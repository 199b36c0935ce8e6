package openapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func loadOps(t *testing.T, file string) []Operation {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	require.NoError(t, err)
	s, err := Parse(b)
	require.NoError(t, err)
	ops, err := s.Operations("")
	require.NoError(t, err)
	return ops
}

func opNamed(t *testing.T, ops []Operation, name string) Operation {
	t.Helper()
	for _, op := range ops {
		if op.Name == name {
			return op
		}
	}
	require.FailNow(t, "no operation "+name)
	return Operation{}
}

func TestYAMLAndJSONGiveSameTools(t *testing.T) {
	require.Equal(t, loadOps(t, "events.yaml"), loadOps(t, "events.json"))
}

func TestOperations(t *testing.T) {
	ops := loadOps(t, "events.yaml")

	// Sorted by path, then get/post/put/patch/delete.
	var order []string
	for _, op := range ops {
		order = append(order, op.Method+" "+op.Path)
	}
	require.Equal(t, []string{"GET /events", "POST /events", "GET /events/{id}", "DELETE /events/{id}", "GET /health"}, order)

	tests := []struct {
		name, id, desc, params string
	}{
		{
			name: "listEvents", id: "listEvents",
			desc: "List events, newest first, optionally filtered by status and tag.", // description wins over summary
			// The header parameter (via $ref) is not offered; the enum comes
			// from a $ref'd schema and gets Flowise's "Valid values" text.
			params: `{"type":"object","additionalProperties":false,"properties":{
				"QueryParameters":{"type":"object","additionalProperties":false,"properties":{
					"limit":{"type":"integer","minimum":1,"maximum":100,"description":"Maximum number of events to return"},
					"status":{"type":"string","enum":["scheduled","cancelled"],"description":"Event status. Valid values: scheduled, cancelled"},
					"tag":{"type":"array","items":{"type":"string"},"description":"Only events with all these tags"}}}}}`,
		},
		{
			name: "createEvent", id: "createEvent", desc: "Create an event",
			// requestBodies and schemas $refs inlined, readOnly id dropped
			// from properties and required, example dropped, the recursive
			// subEvents cut off.
			params: `{"type":"object","additionalProperties":false,"required":["RequestBody"],"properties":{
				"RequestBody":{"type":"object","required":["title","startsAt"],"properties":{
					"title":{"type":"string","description":"Event title"},
					"startsAt":{"type":"string","format":"date-time"},
					"status":{"type":"string","description":"Event status","enum":["scheduled","cancelled"]},
					"location":{"type":"object","properties":{"name":{"type":"string"},"city":{"type":"string"}}},
					"subEvents":{"type":"array","items":{"description":"recursive Event (structure not expanded)"}}}}}}`,
		},
		{
			name: "getEvent", id: "getEvent", desc: "Get one event",
			// {id} is declared on the path item, not the operation.
			params: `{"type":"object","additionalProperties":false,"required":["PathParameters"],"properties":{
				"PathParameters":{"type":"object","additionalProperties":false,"required":["id"],"properties":{
					"id":{"type":"string","description":"Event identifier"}}}}}`,
		},
		{
			name: "events_delete", id: "events.delete", desc: "Delete an event",
			params: `{"type":"object","additionalProperties":false,"required":["PathParameters","QueryParameters"],"properties":{
				"PathParameters":{"type":"object","additionalProperties":false,"required":["id"],"properties":{
					"id":{"type":"string","description":"Event identifier"}}},
				"QueryParameters":{"type":"object","additionalProperties":false,"required":["notify"],"properties":{
					"notify":{"type":"boolean","description":"Email the attendees"}}}}}`,
		},
		{
			// No operationId: named from method and path; no arguments:
			// Flowise's optional "input" string.
			name: "get_health", id: "GET /health", desc: "Health check",
			params: `{"type":"object","additionalProperties":false,"properties":{
				"input":{"type":"string","description":"Query input"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := opNamed(t, ops, tt.name)
			require.Equal(t, tt.id, op.ID)
			require.Equal(t, tt.desc, op.Description)
			require.JSONEq(t, tt.params, string(op.Parameters))
			require.Equal(t, "https://eu.events.example.com/v1", op.BaseURL)
		})
	}
}

func TestServers(t *testing.T) {
	b, err := os.ReadFile("testdata/events.yaml")
	require.NoError(t, err)
	s, err := Parse(b)
	require.NoError(t, err)
	// {region} takes its default.
	require.Equal(t, []string{"https://eu.events.example.com/v1/", "http://localhost:8080"}, s.Servers())

	for _, server := range []string{"", "error"} {
		ops, err := s.Operations(server)
		require.NoError(t, err)
		require.Equal(t, "https://eu.events.example.com/v1", ops[0].BaseURL)
	}
	ops, err := s.Operations("http://localhost:8080")
	require.NoError(t, err)
	require.Equal(t, "http://localhost:8080", ops[0].BaseURL)

	_, err = s.Operations("/v1")
	require.ErrorContains(t, err, "not an absolute http(s) URL")

	noServers, err := Parse([]byte("openapi: 3.1.0\npaths:\n  /x:\n    get:\n      operationId: x\n"))
	require.NoError(t, err)
	_, err = noServers.Operations("")
	require.ErrorContains(t, err, "does not contain a server URL")
	ops, err = noServers.Operations("https://api.example.com/")
	require.NoError(t, err)
	require.Equal(t, "https://api.example.com", ops[0].BaseURL)
}

func TestRequestURL(t *testing.T) {
	ops := loadOps(t, "events.yaml")
	tests := []struct {
		name string
		op   string
		args string
		want string
		err  string
	}{
		{
			name: "path param escaped like encodeURIComponent",
			op:   "getEvent", args: `{"PathParameters":{"id":"a b/c?d(1)"}}`,
			want: "https://eu.events.example.com/v1/events/a%20b%2Fc%3Fd(1)",
		},
		{
			name: "numeric path param",
			op:   "getEvent", args: `{"PathParameters":{"id":42}}`,
			want: "https://eu.events.example.com/v1/events/42",
		},
		{
			name: "query in spec order, arrays exploded, nulls skipped",
			op:   "listEvents", args: `{"QueryParameters":{"tag":["x y","z&"],"status":"scheduled","limit":10}}`,
			want: "https://eu.events.example.com/v1/events?limit=10&status=scheduled&tag=x+y&tag=z%26",
		},
		{
			name: "no query parameters, no question mark",
			op:   "listEvents", args: `{}`,
			want: "https://eu.events.example.com/v1/events",
		},
		{
			name: "path and query",
			op:   "events_delete", args: `{"PathParameters":{"id":"e1"},"QueryParameters":{"notify":false}}`,
			want: "https://eu.events.example.com/v1/events/e1?notify=false",
		},
		{
			name: "undeclared query parameter passed on",
			op:   "listEvents", args: `{"QueryParameters":{"limit":5,"cursor":"abc","skip":null}}`,
			want: "https://eu.events.example.com/v1/events?limit=5&cursor=abc",
		},
		{
			name: "missing path parameter",
			op:   "getEvent", args: `{}`,
			err: "PathParameters.id is required",
		},
		{
			name: "null path parameter",
			op:   "getEvent", args: `{"PathParameters":{"id":null}}`,
			err: "PathParameters.id is required",
		},
		{
			name: "missing required query parameter",
			op:   "events_delete", args: `{"PathParameters":{"id":"e1"}}`,
			err: "QueryParameters.notify is required",
		},
		{
			name: "group not an object",
			op:   "getEvent", args: `{"PathParameters":"e1"}`,
			err: "PathParameters must be an object, got a string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args map[string]any
			require.NoError(t, json.Unmarshal([]byte(tt.args), &args))
			call, err := opNamed(t, ops, tt.op).Request(args, nil, false)
			if tt.err != "" {
				require.ErrorIs(t, err, ErrInvalidArguments)
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, call.URL)
		})
	}
}

func TestRequestOptions(t *testing.T) {
	ops := loadOps(t, "events.yaml")
	create := opNamed(t, ops, "createEvent")
	args := map[string]any{"RequestBody": map[string]any{
		"title": "Launch", "startsAt": "2026-01-02T10:00:00Z", "location": map[string]any{"city": "Oslo"},
	}}

	call, err := create.Request(args, map[string]string{"Authorization": "Bearer t0k"}, false)
	require.NoError(t, err)
	require.Equal(t, "https://eu.events.example.com/v1/events", call.URL)
	require.Equal(t, "POST", call.Method)
	require.JSONEq(t, `{"title":"Launch","startsAt":"2026-01-02T10:00:00Z","location":{"city":"Oslo"}}`, call.Body)

	opts, err := json.Marshal(call.Options())
	require.NoError(t, err)
	require.JSONEq(t, `{
		"method":"post",
		"headers":{"Content-Type":"application/json","Authorization":"Bearer t0k"},
		"body":"{\"location\":{\"city\":\"Oslo\"},\"startsAt\":\"2026-01-02T10:00:00Z\",\"title\":\"Launch\"}"
	}`, string(opts))

	in := call.Inputs()
	require.Equal(t, call.URL, in["$url"])
	require.Equal(t, call.Options(), in["$options"])
	require.Equal(t, args["RequestBody"], in["$RequestBody"])

	// The node's headers override the default Content-Type whatever its case.
	call, err = create.Request(args, map[string]string{"content-type": "text/plain"}, false)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"content-type": "text/plain"}, call.Headers)

	// Required body and required body properties.
	_, err = create.Request(map[string]any{}, nil, false)
	require.ErrorContains(t, err, "RequestBody is required")
	_, err = create.Request(map[string]any{"RequestBody": map[string]any{"title": "x"}}, nil, false)
	require.ErrorContains(t, err, "RequestBody.startsAt is required")

	// GET never carries a body; options have none then.
	call, err = opNamed(t, ops, "listEvents").Request(map[string]any{"RequestBody": map[string]any{"a": 1}}, nil, false)
	require.NoError(t, err)
	require.Empty(t, call.Body)
	require.NotContains(t, call.Options(), "body")
	require.Equal(t, "get", call.Options()["method"])
}

func TestRemoveNulls(t *testing.T) {
	create := opNamed(t, loadOps(t, "events.yaml"), "createEvent")
	args := func() map[string]any {
		return map[string]any{
			"QueryParameters": map[string]any{"x": nil},
			"RequestBody": map[string]any{
				"title": "Launch", "startsAt": "2026-01-02T10:00:00Z", "status": nil,
				"location":  map[string]any{"name": nil, "city": nil},
				"subEvents": []any{map[string]any{"title": "Talk", "status": nil}, nil},
			},
		}
	}

	in := args()
	call, err := create.Request(in, nil, true)
	require.NoError(t, err)
	// Nulls gone; location, empty once its nulls are gone, gone too; array
	// elements cleaned inside but kept in place.
	require.JSONEq(t, `{"title":"Launch","startsAt":"2026-01-02T10:00:00Z","subEvents":[{"title":"Talk"},null]}`, call.Body)
	require.NotContains(t, call.Args, "QueryParameters")
	require.NotContains(t, call.Inputs(), "$QueryParameters")
	require.Equal(t, args(), in, "the caller's arguments are left alone")

	call, err = create.Request(args(), nil, false)
	require.NoError(t, err)
	require.JSONEq(t, `{"title":"Launch","startsAt":"2026-01-02T10:00:00Z","status":null,
		"location":{"name":null,"city":null},"subEvents":[{"title":"Talk","status":null},null]}`, call.Body)
}

func TestDecodeFileInput(t *testing.T) {
	spec, err := os.ReadFile("testdata/events.yaml")
	require.NoError(t, err)
	// What Flowise's UI stores: FileReader's data URI plus ",filename:".
	uri := "data:application/x-yaml;base64," + base64.StdEncoding.EncodeToString(spec) + ",filename:events, v1.yaml"

	data, name, err := DecodeFileInput(uri)
	require.NoError(t, err)
	require.Equal(t, "events, v1.yaml", name)
	require.Equal(t, spec, data)
	_, err = Parse(data)
	require.NoError(t, err)

	many, err := json.Marshal([]string{uri})
	require.NoError(t, err)
	data, name, err = DecodeFileInput(string(many))
	require.NoError(t, err)
	require.Equal(t, "events, v1.yaml", name)
	require.Equal(t, spec, data)

	_, name, err = DecodeFileInput("FILE-STORAGE::events.yaml")
	require.ErrorIs(t, err, ErrStoredFile)
	require.Equal(t, "events.yaml", name)

	for in, want := range map[string]string{
		"openapi: 3.0.0": "not a data URI",
		"data:application/x-yaml;base64,b3BlbmFwaQ==":                     "lacks its ,filename: suffix",
		"data:text/plain,openapi,filename:a.yaml":                         "not a base64 data URI",
		"data:application/x-yaml;base64,!!!,filename:a.yaml":              "illegal base64",
		`["data:;base64,YQ==,filename:a","data:;base64,YQ==,filename:b"]`: "holds 2 files",
	} {
		_, _, err := DecodeFileInput(in)
		require.ErrorContains(t, err, want, in)
	}
}

func TestParseErrors(t *testing.T) {
	const head = "openapi: 3.0.0\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: '#/components/schemas/S0'}\ncomponents:\n  schemas:\n"

	// Refs nested deeper than maxRefDepth: S0.next -> S1, S1.next -> S2, ...
	var deep strings.Builder
	deep.WriteString(head)
	for i := range 40 {
		fmt.Fprintf(&deep, "    S%d: {type: object, properties: {next: {$ref: '#/components/schemas/S%d'}}}\n", i, i+1)
	}
	deep.WriteString("    S40: {type: string}\n")

	// Acyclic but exponential: each level has ten fields of the next.
	var wide strings.Builder
	wide.WriteString(head)
	for i := range 8 {
		fmt.Fprintf(&wide, "    S%d:\n      type: object\n      properties:\n", i)
		for f := range 10 {
			fmt.Fprintf(&wide, "        f%d: {$ref: '#/components/schemas/S%d'}\n", f, i+1)
		}
	}
	wide.WriteString("    S8: {type: string}\n")

	post := func(schema string) string {
		return "openapi: 3.0.0\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: " + schema + "\n"
	}

	tests := []struct {
		name, spec, err string
	}{
		{"empty", "  \n", "spec is empty"},
		{"swagger 2", "swagger: '2.0'\ninfo: {title: x}\npaths: {}\n", "Swagger 2.0 documents are not supported"},
		{"no version", "info: {title: x}\npaths: {}\n", "no openapi version field"},
		{"openapi 2", "openapi: 2.0.0\npaths: {}\n", "OpenAPI version 2.0.0 is not supported"},
		{"malformed YAML", "openapi: 3.0.0\npaths:\n  /x: [unclosed\n", "malformed YAML"},
		{"malformed JSON", `{"openapi": "3.0.0", "paths": {,}}`, "malformed JSON"},
		{"not an object", "- a\n- b\n", "not an object but an array"},
		{"paths not an object", "openapi: 3.0.0\npaths: [1]\n", "paths is not an object"},
		{"external ref", post("{$ref: 'other.yaml#/Event'}"), "points outside the document"},
		{"dangling ref", post("{$ref: '#/components/schemas/Nope'}"), `openapitool: POST /x: $ref "#/components/schemas/Nope" does not resolve`},
		{"parameter without name", "openapi: 3.0.0\npaths:\n  /x:\n    get:\n      parameters: [{in: query}]\n", "parameter 0 has no name"},
		{"too deep", deep.String(), "nested more than 32 refs deep"},
		{"too wide", wide.String(), "expands to more than"},
		{"too large", "openapi: 3.0.0\n#" + strings.Repeat("x", MaxSpecSize), "more than the 4194304 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.spec))
			require.ErrorContains(t, err, tt.err)
			require.Equal(t, 1, strings.Count(err.Error(), "openapitool: "), err.Error())
		})
	}
}

func TestRefs(t *testing.T) {
	// Sibling description overrides the target's (OpenAPI 3.1); escaped
	// pointer tokens resolve; a self-referencing schema stops; a property
	// named "example" is a property, an example holding "$ref" is data.
	spec := `openapi: 3.1.0
servers: [{url: 'https://api.example.com'}]
paths:
  /nodes:
    post:
      operationId: addNode
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Node'
              description: A node to add
  /a~b/{x}:
    get:
      operationId: weird
      parameters:
        - $ref: '#/paths/~1nodes~1{x}/parameters/0'
  /nodes/{x}:
    parameters:
      - {name: x, in: path, required: true, schema: {type: integer}}
components:
  schemas:
    Node:
      type: object
      description: A tree node
      properties:
        children: {type: array, items: {$ref: '#/components/schemas/Node'}}
        example: {$ref: '#/components/schemas/Label'}
      example: {$ref: 'no reference, just data'}
    Label: {type: string, description: Sample label}
`
	s, err := Parse([]byte(spec))
	require.NoError(t, err)
	ops, err := s.Operations("")
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"object","additionalProperties":false,"properties":{"RequestBody":{
		"type":"object","description":"A node to add",
		"properties":{"children":{"type":"array","items":{"description":"recursive Node (structure not expanded)"}},
			"example":{"type":"string","description":"Sample label"}}}}}`,
		string(opNamed(t, ops, "addNode").Parameters))
	weird := opNamed(t, ops, "weird")
	require.Contains(t, string(weird.Parameters), `"x":{"description":"x","type":"integer"}`)
	call, err := weird.Request(map[string]any{"PathParameters": map[string]any{"x": 7.0}}, nil, false)
	require.NoError(t, err)
	require.Equal(t, "https://api.example.com/a~b/7", call.URL)
}

func TestToolNames(t *testing.T) {
	spec := `openapi: 3.0.0
servers: [{url: 'https://api.example.com'}]
paths:
  /a:
    get: {operationId: 'list.items'}
    post: {operationId: 'list_items'}
    put: {operationId: '!!!'}
  /b/{id}/sub-items:
    get: {}
    head: {operationId: skipped}
`
	s, err := Parse([]byte(spec))
	require.NoError(t, err)
	ops, err := s.Operations("")
	require.NoError(t, err)
	var names, ids []string
	for _, op := range ops {
		names = append(names, op.Name)
		ids = append(ids, op.ID)
	}
	require.Equal(t, []string{"list_items", "list_items_2", "operation", "get_b_id_sub-items"}, names)
	require.Equal(t, []string{"list.items", "list_items", "!!!", "GET /b/{id}/sub-items"}, ids)
	require.Equal(t, "list.items", ops[0].Description, "falls back to the ID")

	require.Len(t, Select(ops, nil), 4)
	sel := Select(ops, []string{"list.items", "GET /b/{id}/sub-items", "nope"})
	require.Len(t, sel, 2)
	require.Equal(t, "list_items", sel[0].Name)
	require.Equal(t, "get_b_id_sub-items", sel[1].Name)
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		in   any
		want map[string]string
		err  string
	}{
		{in: nil, want: map[string]string{}},
		{in: " ", want: map[string]string{}},
		{in: `{"Authorization":"Bearer x","X-Retries":3,"X-Off":null}`, want: map[string]string{"Authorization": "Bearer x", "X-Retries": "3"}},
		{in: map[string]any{"X-Flag": true}, want: map[string]string{"X-Flag": "true"}},
		{in: `["a"]`, err: "headers must be a JSON object"},
		{in: 3, err: "got int"},
	}
	for _, tt := range tests {
		got, err := ParseHeaders(tt.in)
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
}
