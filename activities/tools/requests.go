package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// requestKind is one of Flowise's HTTP request tools (requestsGet, …). Its settings are
// named after the kind: <kind>Url, <kind>Name, <kind>Description, <kind>Headers,
// <kind>MaxOutputLength, plus a query-parameter schema (GET, DELETE) or a body schema and a
// fixed body (POST, PUT).
type requestKind struct {
	kind, method, defaultName, description string
	// hasBody: the model fills a JSON body (POST, PUT) rather than query parameters.
	hasBody bool
	// bodySetting is the fixed body's setting, which Flowise names without the "s".
	bodySetting string
}

// tool is the request tool of this kind, calling out through the guarded client.
func (r requestKind) tool(d *nodekit.Deps) Tool {
	return Tool{Offer: r.offer, Run: func(ctx context.Context, req node.ToolRequest) (string, error) { return r.run(ctx, d, req) }}
}

// paramSpec is one entry of a query-parameter or body schema setting:
// {"<name>": {"type", "required", "in": "path"|"query", "description"}}.
type paramSpec struct {
	Type        string `json:"type"`
	Required    any    `json:"required"`
	In          string `json:"in"`
	Description string `json:"description"`
}

// paramSchema reads a schema setting; empty means none.
func paramSchema(raw string) (map[string]paramSpec, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var specs map[string]paramSpec
	if err := json.Unmarshal([]byte(raw), &specs); err != nil {
		return nil, nodekit.FlowError("the parameter schema is not a JSON object of parameters: %v", err)
	}
	return specs, nil
}

// offer describes the function the entry gives the model: {queryParams: {...}} or
// {body: {...}}, with the configured parameters when there is a schema.
func (r requestKind) offer(_ context.Context, e agentflow.ToolEntry) ([]llm.Tool, error) {
	schemaKey, field, fieldDesc := r.kind+"QueryParamsSchema", "queryParams", "Query parameters for the request"
	if r.hasBody {
		schemaKey, field, fieldDesc = r.kind+"BodySchema", "body", "Request body parameters"
	}
	specs, err := paramSchema(nodekit.ConfigString(e.Config, schemaKey))
	if err != nil {
		return nil, err
	}
	inner := map[string]any{"type": "object", "description": fieldDesc}
	var fieldRequired []string
	if len(specs) > 0 {
		props, required := map[string]any{}, []string{}
		for name, p := range specs {
			prop := map[string]any{"type": jsonType(p.Type, r.hasBody)}
			if p.Description != "" {
				prop["description"] = p.Description
			}
			props[name] = prop
			if agentflow.Truthy(p.Required) {
				required = append(required, name)
			}
		}
		slices.Sort(required)
		inner["properties"] = props
		if len(required) > 0 {
			inner["required"] = required
		}
		if r.hasBody {
			fieldRequired = []string{field} // Flowise makes a schema'd body mandatory
		}
	}
	params := map[string]any{"type": "object", "properties": map[string]any{field: inner}}
	if fieldRequired != nil {
		params["required"] = fieldRequired
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	return []llm.Tool{{
		Name:        toolName(nodekit.ConfigString(e.Config, r.kind+"Name"), r.defaultName),
		Description: cmp.Or(nodekit.ConfigString(e.Config, r.kind+"Description"), r.description),
		Parameters:  raw,
	}}, nil
}

// jsonType maps a schema entry's type. Query parameters travel as text, as in Flowise, which
// converts numbers and booleans itself.
func jsonType(t string, body bool) string {
	switch {
	case !body:
		return "string"
	case t == "number" || t == "boolean" || t == "object" || t == "array":
		return t
	}
	return "string"
}

// run calls the entry's URL through the SSRF-guarded client: path and query
// parameters from the model's queryParams (placed by the schema's "in"), or its body merged
// over the configured one.
func (r requestKind) run(ctx context.Context, d *nodekit.Deps, req node.ToolRequest) (string, error) {
	cfg := config(req)
	args, err := callArgs(req.Call)
	if err != nil {
		return "", err
	}
	target := strings.TrimSpace(agentflow.PlainText(nodekit.ConfigString(cfg, r.kind+"Url")))
	if target == "" {
		return "", nodekit.FlowError("URL is required for %s request", r.method)
	}
	headers := map[string]string{}
	if raw := strings.TrimSpace(agentflow.PlainText(nodekit.ConfigString(cfg, r.kind+"Headers"))); raw != "" {
		if err := json.Unmarshal([]byte(raw), &headers); err != nil {
			return "", nodekit.FlowError("%s: headers are not a JSON object of strings: %v", r.kind, err)
		}
	}
	var body string
	if r.hasBody {
		merged := map[string]any{}
		if fixedBody := strings.TrimSpace(nodekit.ConfigString(cfg, r.bodySetting)); fixedBody != "" {
			if err := json.Unmarshal([]byte(fixedBody), &merged); err != nil {
				return "", nodekit.FlowError("%s: the body setting is not a JSON object: %v", r.kind, err)
			}
		}
		if given, ok := args["body"].(map[string]any); ok {
			for k, v := range given {
				merged[k] = v
			}
		}
		raw, err := json.Marshal(merged)
		if err != nil {
			return "", err
		}
		body = string(raw)
		headers["Content-Type"] = cmp.Or(headers["Content-Type"], "application/json")
	} else {
		specs, err := paramSchema(nodekit.ConfigString(cfg, r.kind+"QueryParamsSchema"))
		if err != nil {
			return "", err
		}
		given, _ := args["queryParams"].(map[string]any)
		if target, err = withParams(target, given, specs); err != nil {
			return "", err
		}
	}
	status, _, out, err := d.Send(ctx, r.method, target, headers, body)
	if err != nil {
		return "", err
	}
	if status >= 400 {
		return "", nodekit.FlowError("Failed to make %s request: HTTP Error %d: %s", r.method, status, http.StatusText(status))
	}
	if limit, err := strconv.Atoi(strings.TrimSpace(nodekit.ConfigString(cfg, r.kind+"MaxOutputLength"))); err == nil && limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return string(out), nil
}

// withParams puts the model's parameters into the URL as Flowise does: a path parameter
// replaces its ":name" placeholder or, without one, is appended as a path segment; a query
// parameter is appended to the query. Without a schema every parameter is a query parameter.
func withParams(target string, given map[string]any, specs map[string]paramSpec) (string, error) {
	var appended []string
	query := url.Values{}
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if given[name] == nil {
			continue
		}
		value := fmt.Sprint(given[name])
		spec, known := specs[name]
		switch {
		case specs == nil || (known && spec.In == "query"):
			query.Add(name, value)
		case known && spec.In == "path" && strings.Contains(target, ":"+name):
			target = regexp.MustCompile(`:`+regexp.QuoteMeta(name)+`\b`).ReplaceAllString(target, url.PathEscape(value))
		case known && spec.In == "path":
			appended = append(appended, url.PathEscape(value))
		}
	}
	if len(appended) > 0 {
		target = strings.TrimSuffix(target, "/") + "/" + strings.Join(appended, "/")
	}
	if len(query) == 0 {
		return target, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", nodekit.FlowError("invalid URL %q: %v", target, err)
	}
	q := u.Query()
	for k, vs := range query {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
