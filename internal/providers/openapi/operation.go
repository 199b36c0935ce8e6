package openapi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Operation is one API operation as an agent tool.
type Operation struct {
	// ID names the endpoint as Flowise's "Available Endpoints" list does:
	// the operationId, or "GET /events/{id}" when there is none. Select
	// matches stored selections against it.
	ID string
	// Name is the tool name shown to the model. Flowise passes the
	// operationId unchanged and drops operations without one; here it is
	// made to fit the providers' tool-name rule ([A-Za-z0-9_-], at most 64
	// characters), derived from method and path when there is no
	// operationId, and made unique within the spec.
	Name string
	// Description is the operation's description, else its summary, else
	// its ID (Flowise's order).
	Description string
	Method      string // upper-case HTTP method
	Path        string // path template, e.g. /events/{id}
	BaseURL     string // server URL without trailing slash; set by Spec.Operations
	// Parameters is the JSON Schema (type object) of the tool's arguments:
	// properties PathParameters, QueryParameters and RequestBody, each
	// present only when the operation has such parameters, or a single
	// optional string "input" when it has none.
	Parameters json.RawMessage
	// Strict reports the operation's x-strict: true, Flowise's switch for
	// OpenAI strict function calling.
	Strict bool

	pathParams  []param
	queryParams []param
	body        *requestBody // nil: the operation takes no body
}

type param struct {
	name     string
	required bool
	explode  bool // array values as repeated keys, OpenAPI's default for query
}

type requestBody struct {
	required bool
	props    []string // required top-level properties of an object body
}

// operation builds the tool for one operation. shared holds the path item's
// parameters, which apply to all its operations (Flowise reads only the
// operation's own, leaving e.g. {id} unfilled when it is declared once for
// the path).
func (r *resolver) operation(path, method string, raw, shared any) (Operation, error) {
	spec, err := r.shallow(raw, "operation")
	if err != nil {
		return Operation{}, err
	}
	op := Operation{Method: strings.ToUpper(method), Path: path, Strict: spec["x-strict"] == true}
	opID, _ := spec["operationId"].(string)
	op.ID, op.Name = opID, sanitizeName(opID)
	if opID == "" {
		op.ID, op.Name = op.Method+" "+path, sanitizeName(method+path)
	}
	op.Description = firstString(spec["description"], spec["summary"], op.ID)

	params, err := r.parameters(shared, spec["parameters"])
	if err != nil {
		return Operation{}, err
	}
	props := map[string]any{}
	var required []string
	pathProps, queryProps := map[string]any{}, map[string]any{}
	var pathReq, queryReq []string
	for _, p := range params {
		name, _ := p["name"].(string)
		in, _ := p["in"].(string)
		schema := paramSchema(p, name)
		switch in {
		case "path":
			// Path parameters are always required: the URL has a hole.
			pathProps[name] = schema
			pathReq = append(pathReq, name)
			op.pathParams = append(op.pathParams, param{name: name, required: true})
		case "query":
			req := p["required"] == true
			queryProps[name] = schema
			if req {
				queryReq = append(queryReq, name)
			}
			explode, ok := p["explode"].(bool)
			op.queryParams = append(op.queryParams, param{name: name, required: req, explode: explode || !ok})
		}
		// Header and cookie parameters are not offered to the model, as in
		// Flowise: headers come from the node's "headers" input.
	}
	if len(pathProps) > 0 {
		props["PathParameters"] = objectSchema(pathProps, pathReq)
		required = append(required, "PathParameters")
	}
	if len(queryProps) > 0 {
		props["QueryParameters"] = objectSchema(queryProps, queryReq)
		if len(queryReq) > 0 {
			required = append(required, "QueryParameters")
		}
	}

	bodyWithoutSchema := false
	if raw, ok := spec["requestBody"]; ok {
		b, err := r.object(raw, "requestBody")
		if err != nil {
			return Operation{}, err
		}
		op.body = &requestBody{required: b["required"] == true}
		if schema := bodySchema(b); schema != nil {
			s := cleanSchema(schema)
			props["RequestBody"] = s
			if op.body.required {
				required = append(required, "RequestBody")
			}
			op.body.props, _ = s["required"].([]string)
		} else {
			bodyWithoutSchema = true
		}
	}
	if len(props) == 0 || bodyWithoutSchema {
		// Flowise's fallback when there is nothing structured to ask for.
		props["input"] = map[string]any{"type": "string", "description": "Query input"}
	}
	op.Parameters, err = json.Marshal(objectSchema(props, required))
	return op, err
}

// parameters resolves the path item's and the operation's parameter lists;
// an operation parameter replaces a path one of the same name and location.
func (r *resolver) parameters(shared, own any) ([]map[string]any, error) {
	var out []map[string]any
	// at finds a parameter by name and location in linear time, whatever the length of the
	// lists. Only a string location can match: "in" may be any JSON value, and comparing two
	// objects with == would panic.
	type key struct{ name, in string }
	at := map[key]int{}
	for _, list := range []any{shared, own} {
		if list == nil {
			continue
		}
		items, ok := list.([]any)
		if !ok {
			return nil, fmt.Errorf("parameters is %s, want an array", typeName(list))
		}
		for i, it := range items {
			p, err := r.object(it, "parameter "+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			name, _ := p["name"].(string)
			if name == "" {
				return nil, fmt.Errorf("parameter %d has no name", i)
			}
			in, ok := p["in"].(string)
			if !ok {
				out = append(out, p)
				continue
			}
			if j, ok := at[key{name, in}]; ok {
				out[j] = p
			} else {
				at[key{name, in}] = len(out)
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// paramSchema is the schema the model sees for one parameter. Its
// description follows Flowise: the schema's description, else its title,
// else the parameter's description, else the name; for an enum, title,
// description and "Valid values: a, b" joined with ". ".
func paramSchema(p map[string]any, name string) map[string]any {
	schema, _ := p["schema"].(map[string]any)
	if schema == nil {
		// A parameter may describe its value by media type instead.
		content, _ := p["content"].(map[string]any)
		for _, mt := range sortedKeys(content) {
			if m, ok := content[mt].(map[string]any); ok {
				if schema, ok = m["schema"].(map[string]any); ok {
					break
				}
			}
		}
	}
	if schema == nil {
		schema = map[string]any{"type": "string"}
	}
	s := cleanSchema(schema)
	if enum, ok := schema["enum"].([]any); ok && len(enum) > 0 {
		vals := make([]string, len(enum))
		for i, e := range enum {
			vals[i] = jsString(e)
		}
		var parts []string
		for _, part := range []string{firstString(schema["title"]), firstString(schema["description"], p["description"]), "Valid values: " + strings.Join(vals, ", ")} {
			if part != "" {
				parts = append(parts, part)
			}
		}
		s["description"] = strings.Join(parts, ". ")
	} else {
		s["description"] = firstString(schema["description"], schema["title"], p["description"], name)
	}
	return s
}

// bodyMediaTypes is Flowise's preference among a body's media types. The
// body is sent as JSON whichever is chosen, as in Flowise.
var bodyMediaTypes = []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}

func bodySchema(b map[string]any) map[string]any {
	content, _ := b["content"].(map[string]any)
	pick := func(mt string) map[string]any {
		m, _ := content[mt].(map[string]any)
		s, _ := m["schema"].(map[string]any)
		return s
	}
	for _, mt := range bodyMediaTypes {
		if s := pick(mt); s != nil {
			return s
		}
	}
	// Also take JSON flavours such as application/merge-patch+json, which
	// Flowise would ask for as a bare "input" string.
	for _, mt := range sortedKeys(content) {
		if strings.Contains(mt, "json") {
			if s := pick(mt); s != nil {
				return s
			}
		}
	}
	return nil
}

func objectSchema(props map[string]any, required []string) map[string]any {
	// additionalProperties: false is what Flowise's zod objects turn into.
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// schemaKeywords are the JSON Schema keywords passed on to the model. The
// rest (example, xml, discriminator, nullable, x-..., readOnly) is OpenAPI
// documentation that costs tokens and that some providers reject.
var schemaKeywords = map[string]bool{
	"type": true, "format": true, "title": true, "description": true, "enum": true, "const": true, "default": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"minLength": true, "maxLength": true, "pattern": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minProperties": true, "maxProperties": true,
}

// cleanSchema copies a resolved schema keeping only schemaKeywords and the
// structural keywords, recursively. Properties marked readOnly are left out
// (and out of required): OpenAPI says they are not sent in requests, and a
// shared schema such as Event often has a server-assigned readOnly id.
func cleanSchema(s map[string]any) map[string]any {
	out := map[string]any{}
	readOnly := map[string]bool{}
	for k, v := range s {
		switch k {
		case "properties":
			props, _ := v.(map[string]any)
			cp := make(map[string]any, len(props))
			for name, ps := range props {
				m, ok := ps.(map[string]any)
				if !ok {
					continue
				}
				if m["readOnly"] == true {
					readOnly[name] = true
					continue
				}
				cp[name] = cleanSchema(m)
			}
			out[k] = cp
		case "items", "additionalProperties", "not":
			if m, ok := v.(map[string]any); ok {
				out[k] = cleanSchema(m)
			} else if b, ok := v.(bool); ok && k == "additionalProperties" {
				out[k] = b
			}
		case "anyOf", "oneOf", "allOf":
			list, _ := v.([]any)
			var subs []any
			for _, e := range list {
				if m, ok := e.(map[string]any); ok {
					subs = append(subs, cleanSchema(m))
				}
			}
			if len(subs) > 0 {
				out[k] = subs
			}
		case "required":
			// Filtered below, once the readOnly properties are known.
		default:
			if schemaKeywords[k] {
				out[k] = v
			}
		}
	}
	if list, ok := s["required"].([]any); ok {
		var req []string
		for _, e := range list {
			if name, ok := e.(string); ok && !readOnly[name] {
				req = append(req, name)
			}
		}
		if len(req) > 0 {
			out["required"] = req
		}
	}
	return out
}

// nameTools makes tool names unique by numbering repeats (name_2, ...),
// in operation order so the result is stable: each repeat takes the lowest
// free number.
func nameTools(ops []Operation) {
	used := map[string]bool{}
	// A candidate is a stem (the name, cut to leave room for the suffix)
	// and a suffix of some width. tried holds, per stem and width, one past
	// the highest number tried: every number of that width below it gives a
	// name already used, so a search jumps there rather than trying them
	// again, and a thousand operations with one name cost linear time, not
	// quadratic.
	type stem struct {
		text  string
		width int
	}
	tried := map[stem]int{}
	for i := range ops {
		base, name := ops[i].Name, ops[i].Name
		for n := 2; used[name]; {
			suffix := "_" + strconv.Itoa(n)
			k := stem{base[:min(len(base), maxNameLen-len(suffix))], len(suffix)}
			if next := tried[k]; next > n {
				n = next
				continue
			}
			name = k.text + suffix
			n++
			tried[k] = n
		}
		used[name] = true
		ops[i].Name = name
	}
}

const maxNameLen = 64

// sanitizeName maps s onto [A-Za-z0-9_-]{1,64}: each run of other
// characters becomes one "_".
func sanitizeName(s string) string {
	var b strings.Builder
	pendingSep := false
	for _, c := range s {
		ok := c == '-' || c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
		if !ok {
			pendingSep = b.Len() > 0
			continue
		}
		if pendingSep {
			b.WriteByte('_')
			pendingSep = false
		}
		b.WriteRune(c)
	}
	name := b.String()
	if name == "" {
		return "operation"
	}
	return name[:min(len(name), maxNameLen)]
}

func firstString(vals ...any) string {
	for _, v := range vals {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	return ""
}
