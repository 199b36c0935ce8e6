package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// ErrInvalidArguments marks errors caused by the model's arguments (a
// missing required parameter, a group that is not an object), which a tool
// runner should report back to the model rather than fail the flow on.
var ErrInvalidArguments = errors.New("openapitool: invalid tool arguments")

// DefaultCode is the script Flowise runs when the node's customCode is
// empty: fetch $url with $options and return the JSON response serialised
// again, or "" when the request fails or the response is not JSON.
const DefaultCode = `const fetch = require('node-fetch');
const url = $url;
const options = $options;

try {
	const response = await fetch(url, options);
	const resp = await response.json();
	return JSON.stringify(resp);
} catch (error) {
	console.error(error);
	return '';
}
`

// Call is the HTTP request a tool call comes to.
type Call struct {
	URL     string
	Method  string            // upper-case
	Headers map[string]string // Content-Type: application/json unless overridden
	Body    string            // JSON; "" when the request has no body
	// Args are the model's arguments after removeNulls; custom code sees
	// each top-level one as $<name> ($PathParameters, $RequestBody, ...).
	Args map[string]any
}

// Options is Flowise's $options, the fetch init object: method (lower-case,
// as Flowise passes the spec's key), headers, and body when there is one.
func (c Call) Options() map[string]any {
	headers := make(map[string]any, len(c.Headers))
	for k, v := range c.Headers {
		headers[k] = v
	}
	o := map[string]any{"method": strings.ToLower(c.Method), "headers": headers}
	if c.Body != "" {
		o["body"] = c.Body
	}
	return o
}

var jsIdent = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// Inputs are the variables custom code runs with: $url, $options and
// $<name> for each top-level argument. Argument names that are no
// JavaScript identifier are left out, since no script could refer to them.
func (c Call) Inputs() map[string]any {
	in := make(map[string]any, len(c.Args)+2)
	for k, v := range c.Args {
		if jsIdent.MatchString(k) {
			in["$"+k] = v
		}
	}
	in["$options"] = c.Options()
	in["$url"] = c.URL
	return in
}

// Request turns the model's arguments into the call to make: the URL is
// BaseURL + Path with {placeholders} replaced by PathParameters
// (encodeURIComponent-escaped, as Flowise does) and QueryParameters appended;
// the body is RequestBody as JSON, for any method but GET.
//
// headers (the node's "headers" input) are laid over the default
// Content-Type: application/json, matching names case-insensitively. With
// removeNulls, arguments whose value is null are dropped first, and then any
// object or array left empty, at every depth (Flowise's removeNulls; note
// that it drops empty arrays the model sent, too). Null query values are
// never sent; Flowise would send the text "null".
//
// args is not modified.
func (op Operation) Request(args map[string]any, headers map[string]string, removeNulls bool) (Call, error) {
	args, _ = cloneJSON(args).(map[string]any)
	if args == nil {
		args = map[string]any{}
	}
	if removeNulls {
		dropNulls(args)
	}
	pathArgs, err := group(args, "PathParameters")
	if err != nil {
		return Call{}, err
	}
	queryArgs, err := group(args, "QueryParameters")
	if err != nil {
		return Call{}, err
	}

	path, err := op.fillPath(pathArgs)
	if err != nil {
		return Call{}, err
	}
	query, err := op.query(queryArgs)
	if err != nil {
		return Call{}, err
	}
	u := op.BaseURL + path
	if query != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + query
	}

	call := Call{URL: u, Method: op.Method, Headers: map[string]string{"Content-Type": "application/json"}, Args: args}
	for k, v := range headers {
		if strings.EqualFold(k, "Content-Type") {
			delete(call.Headers, "Content-Type")
		}
		call.Headers[k] = v
	}

	body, hasBody := args["RequestBody"]
	hasBody = hasBody && body != nil
	if op.body != nil && op.Method != http.MethodGet {
		if !hasBody && op.body.required {
			return Call{}, fmt.Errorf("%w: RequestBody is required", ErrInvalidArguments)
		}
		if m, ok := body.(map[string]any); ok {
			for _, name := range op.body.props {
				if v, ok := m[name]; !ok || v == nil {
					return Call{}, fmt.Errorf("%w: RequestBody.%s is required", ErrInvalidArguments, name)
				}
			}
		}
	}
	// Like Flowise, a RequestBody the model sends is passed on even if the
	// spec declares none, except on GET, where fetch refuses a body.
	if hasBody && op.Method != http.MethodGet {
		b, err := json.Marshal(body)
		if err != nil {
			return Call{}, fmt.Errorf("%w: RequestBody: %v", ErrInvalidArguments, err)
		}
		call.Body = string(b)
	}
	return call, nil
}

// group returns args[name], which must be an object when present.
func group(args map[string]any, name string) (map[string]any, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s must be an object, got %s", ErrInvalidArguments, name, typeName(v))
	}
	return m, nil
}

// fillPath substitutes each {name} of the path template. Every placeholder
// needs a value: the spec may have forgotten to declare one, but the URL
// would be wrong all the same.
func (op Operation) fillPath(vals map[string]any) (string, error) {
	var b strings.Builder
	rest := op.Path
	for {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest[max(i, 0):], '}')
		if i < 0 || j < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		name := rest[i+1 : i+j]
		v, ok := vals[name]
		if !ok || v == nil {
			return "", fmt.Errorf("%w: PathParameters.%s is required", ErrInvalidArguments, name)
		}
		b.WriteString(rest[:i])
		b.WriteString(encodeURIComponent(jsString(v)))
		rest = rest[i+j+1:]
	}
}

// query encodes the query parameters: declared ones in spec order, then any
// others the model sent, sorted. Arrays become repeated keys (OpenAPI's
// default form/explode style) or, with explode: false, one comma-joined value.
func (op Operation) query(vals map[string]any) (string, error) {
	var parts []string
	add := func(name string, v any, explode bool) {
		list, isList := v.([]any)
		if !isList || !explode {
			parts = append(parts, queryEscape(name)+"="+queryEscape(jsString(v)))
			return
		}
		for _, e := range list {
			parts = append(parts, queryEscape(name)+"="+queryEscape(jsString(e)))
		}
	}
	declared := make(map[string]bool, len(op.queryParams))
	for _, p := range op.queryParams {
		declared[p.name] = true
		v, ok := vals[p.name]
		if !ok || v == nil {
			if p.required {
				return "", fmt.Errorf("%w: QueryParameters.%s is required", ErrInvalidArguments, p.name)
			}
			continue
		}
		add(p.name, v, p.explode)
	}
	for _, name := range sortedKeys(vals) {
		if !declared[name] && vals[name] != nil {
			add(name, vals[name], true)
		}
	}
	return strings.Join(parts, "&"), nil
}

// jsString renders an argument the way JavaScript's String() does for the
// values the model sends, so URLs match Flowise's: numbers without a
// trailing ".0", arrays comma-joined. Objects become JSON rather than
// "[object Object]".
func jsString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	case []any:
		s := make([]string, len(t))
		for i, e := range t {
			if e != nil { // String([null]) is ""
				s[i] = jsString(e)
			}
		}
		return strings.Join(s, ",")
	case map[string]any:
		b, _ := json.Marshal(t)
		return string(b)
	default:
		return fmt.Sprint(t)
	}
}

// encodeURIComponent escapes like JavaScript's function of that name:
// everything but letters, digits and -_.!~*'() is percent-encoded.
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// queryEscape is form encoding as URLSearchParams does it: space as "+".
func queryEscape(s string) string {
	return strings.ReplaceAll(encodeURIComponent(s), "%20", "+")
}

// dropNulls is Flowise's removeNulls: delete null members, then members
// that are (or became) empty objects or arrays. Array elements are only
// cleaned inside, never removed, so positions keep their meaning.
func dropNulls(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			if dropNulls(t); len(t) == 0 {
				delete(m, k)
			}
		case []any:
			for _, e := range t {
				if em, ok := e.(map[string]any); ok {
					dropNulls(em)
				}
			}
			if len(t) == 0 {
				delete(m, k)
			}
		}
	}
}

// cloneJSON deep-copies maps and slices, so Request can clean the
// arguments without touching the caller's.
func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = cloneJSON(e)
		}
		return s
	default:
		return v
	}
}
