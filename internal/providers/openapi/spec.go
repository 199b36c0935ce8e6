package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSpecSize is the largest document Parse accepts. Specs are uploaded by
// flow authors and parsed on every flow build, so the work has to be bounded.
const MaxSpecSize = 4 << 20

// methods are the operations Flowise turns into tools (get, post, put,
// delete, patch; head, options and trace are skipped), in the order this
// package sorts them within a path.
var methods = []string{"get", "post", "put", "patch", "delete"}

// Spec is a parsed OpenAPI document: its servers and its operations.
type Spec struct {
	servers []string
	ops     []Operation
}

// Parse reads an OpenAPI 3.x document, YAML or JSON, and builds one
// Operation per get/post/put/patch/delete operation. Every $ref inside the
// document that the tools need (parameters, request bodies, schemas) is
// resolved here, so errors in the spec surface when the flow is built, not
// when the model first calls a tool.
//
// Operations are ordered by path, then by method in the order of the
// methods list above (get, post, put, patch, delete). Flowise uses document
// order; a sorted order is stable whatever the input format.
func Parse(spec []byte) (*Spec, error) { return parse(spec, specBudget) }

// parse is Parse with a resolving budget.
func parse(spec []byte, limit budget) (*Spec, error) {
	if len(spec) > MaxSpecSize {
		return nil, fmt.Errorf("openapitool: spec is %d bytes, more than the %d allowed", len(spec), MaxSpecSize)
	}
	doc, err := decode(spec)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(doc); err != nil {
		return nil, err
	}
	s := &Spec{servers: serverURLs(doc)}

	r := &resolver{doc: doc, limit: limit}
	paths, ok := doc["paths"].(map[string]any)
	if !ok && doc["paths"] != nil {
		return nil, errors.New("openapitool: spec: paths is not an object")
	}
	for _, path := range sortedKeys(paths) {
		item, err := r.shallow(paths[path], "path "+path)
		if err != nil {
			return nil, fmt.Errorf("openapitool: %w", err)
		}
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			op, err := r.operation(path, m, raw, item["parameters"])
			if err != nil {
				return nil, fmt.Errorf("openapitool: %s %s: %w", strings.ToUpper(m), path, err)
			}
			s.ops = append(s.ops, op)
		}
	}
	nameTools(s.ops)
	return s, nil
}

// decode reads JSON or YAML into plain maps, slices and scalars. A document
// starting with '{' is read as JSON, for JSON's clearer error messages;
// anything else as YAML (Flowise likewise tries JSON first, then YAML).
func decode(spec []byte) (map[string]any, error) {
	spec = bytes.TrimPrefix(spec, []byte("\xef\xbb\xbf")) // editors' UTF-8 BOM
	trimmed := bytes.TrimSpace(spec)
	if len(trimmed) == 0 {
		return nil, errors.New("openapitool: spec is empty")
	}
	var v any
	if trimmed[0] == '{' {
		if err := json.Unmarshal(trimmed, &v); err != nil {
			return nil, fmt.Errorf("openapitool: spec is malformed JSON: %w", err)
		}
	} else {
		if err := yaml.Unmarshal(spec, &v); err != nil {
			return nil, fmt.Errorf("openapitool: spec is malformed YAML: %w", err)
		}
		v = normalizeYAML(v)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapitool: spec is not an object but %s", typeName(v))
	}
	return doc, nil
}

// normalizeYAML turns the map[any]any that YAML yields for mappings with
// non-string keys (such as responses: {200: ...}) into map[string]any, so the
// rest of the package deals with JSON shapes only.
func normalizeYAML(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeYAML(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalizeYAML(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalizeYAML(e)
		}
		return t
	default:
		return v
	}
}

func checkVersion(doc map[string]any) error {
	if v, ok := doc["swagger"]; ok {
		// Flowise has no Swagger 2.0 path either: such a spec has no
		// "servers" and fails there.
		return fmt.Errorf("openapitool: Swagger %v documents are not supported; convert the spec to OpenAPI 3", v)
	}
	v, ok := doc["openapi"]
	if !ok {
		return errors.New("openapitool: spec has no openapi version field; is it an OpenAPI 3 document?")
	}
	// YAML reads an unquoted 3.1 as a number, hence Sprint.
	if !strings.HasPrefix(fmt.Sprint(v), "3") {
		return fmt.Errorf("openapitool: OpenAPI version %v is not supported, want 3.x", v)
	}
	return nil
}

var serverVar = regexp.MustCompile(`\{([^{}]+)\}`)

// serverURLs lists the servers' URLs with their {variables} replaced by the
// variables' defaults (which OpenAPI requires). Flowise uses the URL as
// written, which leaves the braces in.
func serverURLs(doc map[string]any) []string {
	list, _ := doc["servers"].([]any)
	var urls []string
	for _, s := range list {
		m, _ := s.(map[string]any)
		u, _ := m["url"].(string)
		if u == "" {
			continue
		}
		vars, _ := m["variables"].(map[string]any)
		urls = append(urls, fillServerVars(u, vars))
	}
	return urls
}

// maxServerURLLen bounds a server URL with its variables filled in. A URL
// that repeats a variable with a long default would otherwise grow as the
// product of the two: a 2 MB URL of "{v}" and a 1 MB default make 700 GB.
const maxServerURLLen = 8 << 10

// fillServerVars replaces u's {variables} with their defaults; past
// maxServerURLLen it gives up and returns u as written, as Flowise uses it.
func fillServerVars(u string, vars map[string]any) string {
	var b strings.Builder
	last := 0
	for _, loc := range serverVar.FindAllStringSubmatchIndex(u, -1) {
		b.WriteString(u[last:loc[0]])
		v, _ := vars[u[loc[2]:loc[3]]].(map[string]any)
		if d, ok := v["default"]; ok {
			b.WriteString(fmt.Sprint(d))
		} else {
			b.WriteString(u[loc[0]:loc[1]])
		}
		if b.Len() > maxServerURLLen {
			return u
		}
		last = loc[1]
	}
	b.WriteString(u[last:])
	return b.String()
}

// Servers lists the server URLs the spec declares, as Flowise's "Server"
// dropdown offers them.
func (s *Spec) Servers() []string { return slices.Clone(s.servers) }

// Operations returns the tools with their base URL set to server, or to the
// spec's first server when server is empty or "error" (the value Flowise's
// dropdown stores when the spec lists no servers). It fails when no server
// is known, as Flowise does, and when the URL is not absolute http(s), since
// a relative server URL cannot be called.
func (s *Spec) Operations(server string) ([]Operation, error) {
	if server == "" || server == "error" {
		if len(s.servers) == 0 {
			return nil, errors.New("openapitool: OpenAPI spec does not contain a server URL; select or supply one")
		}
		server = s.servers[0]
	}
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openapitool: server URL %q is not an absolute http(s) URL", server)
	}
	// Paths start with "/", so a trailing slash would double it.
	base := strings.TrimRight(server, "/")
	ops := slices.Clone(s.ops)
	for i := range ops {
		ops[i].BaseURL = base
	}
	return ops, nil
}

// Select keeps the operations whose ID or Name is in selected, Flowise's
// "Available Endpoints" filter; an empty selection keeps them all.
func Select(ops []Operation, selected []string) []Operation {
	if len(selected) == 0 {
		return ops
	}
	var out []Operation
	for _, op := range ops {
		if slices.Contains(selected, op.ID) || slices.Contains(selected, op.Name) {
			out = append(out, op)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}
