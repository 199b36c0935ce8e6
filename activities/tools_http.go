package activities

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
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

var requestTools = []requestKind{
	{"requestsGet", http.MethodGet, "requests_get", "Use this when you need to execute a GET request to get data from a website.", false, ""},
	{"requestsPost", http.MethodPost, "requests_post", "Use this when you want to execute a POST request to create or update a resource.", true, "requestPostBody"},
	{"requestsPut", http.MethodPut, "requests_put", "Use this when you want to execute a PUT request to update or replace a resource.", true, "requestPutBody"},
	{"requestsDelete", http.MethodDelete, "requests_delete", "Use this when you need to execute a DELETE request to remove data from a website.", false, ""},
}

func requestKindOf(kind string) (requestKind, bool) {
	i := slices.IndexFunc(requestTools, func(r requestKind) bool { return r.kind == kind })
	if i < 0 {
		return requestKind{}, false
	}
	return requestTools[i], true
}

// toolName is a configured tool name as Flowise keeps it, or fallback when none is left.
func toolName(configured, fallback string) string {
	return cmp.Or(agentflow.SanitizeToolName(configured), fallback)
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
		return nil, flowError("the parameter schema is not a JSON object of parameters: %v", err)
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
	specs, err := paramSchema(configString(e.Config, schemaKey))
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
		Name:        toolName(configString(e.Config, r.kind+"Name"), r.defaultName),
		Description: cmp.Or(configString(e.Config, r.kind+"Description"), r.description),
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

// requestTool calls the entry's URL through the SSRF-guarded client: path and query
// parameters from the model's queryParams (placed by the schema's "in"), or its body merged
// over the configured one.
func (a *Activities) requestTool(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	r, ok := requestKindOf(req.Call.Kind())
	if !ok {
		return "", flowError("tool %s is not an HTTP request tool", req.Call.Kind())
	}
	cfg := toolConfig(req)
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	target := strings.TrimSpace(agentflow.PlainText(configString(cfg, r.kind+"Url")))
	if target == "" {
		return "", flowError("URL is required for %s request", r.method)
	}
	headers := map[string]string{}
	if raw := strings.TrimSpace(agentflow.PlainText(configString(cfg, r.kind+"Headers"))); raw != "" {
		if err := json.Unmarshal([]byte(raw), &headers); err != nil {
			return "", flowError("%s: headers are not a JSON object of strings: %v", r.kind, err)
		}
	}
	var body string
	if r.hasBody {
		merged := map[string]any{}
		if fixedBody := strings.TrimSpace(configString(cfg, r.bodySetting)); fixedBody != "" {
			if err := json.Unmarshal([]byte(fixedBody), &merged); err != nil {
				return "", flowError("%s: the body setting is not a JSON object: %v", r.kind, err)
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
		specs, err := paramSchema(configString(cfg, r.kind+"QueryParamsSchema"))
		if err != nil {
			return "", err
		}
		given, _ := args["queryParams"].(map[string]any)
		if target, err = withParams(target, given, specs); err != nil {
			return "", err
		}
	}
	status, _, out, err := a.send(ctx, r.method, target, headers, body)
	if err != nil {
		return "", err
	}
	if status >= 400 {
		return "", flowError("Failed to make %s request: HTTP Error %d: %s", r.method, status, http.StatusText(status))
	}
	if limit, err := strconv.Atoi(strings.TrimSpace(configString(cfg, r.kind+"MaxOutputLength"))); err == nil && limit > 0 && len(out) > limit {
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
		return "", flowError("invalid URL %q: %v", target, err)
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

// webSearch is a search API that takes the query, and the credential's keys, in its URL.
type webSearch struct {
	tool, baseEnv, base string
	keys                []string // the credential fields the API needs
	query               func(q string, secret map[string]string) url.Values
}

// search sends the call's query ("input") and returns the API's JSON answer. Errors name the
// host, never the query string that carries the key.
func (a *Activities) search(ctx context.Context, req agentflow.ToolRequest, ws webSearch) ([]byte, error) {
	args, err := toolArgs(req.Call)
	if err != nil {
		return nil, err
	}
	query, _ := args["input"].(string)
	secret, err := a.secret(ctx, toolSetting(req, "credential"))
	if err != nil {
		return nil, err
	}
	for _, k := range ws.keys {
		if secret[k] == "" {
			return nil, flowError("%s: the credential needs %s", ws.tool, strings.Join(ws.keys, " and "))
		}
	}
	u, err := url.Parse(cmp.Or(os.Getenv(ws.baseEnv), ws.base))
	if err != nil {
		return nil, flowError("%s: invalid base URL: %v", ws.tool, err)
	}
	u.RawQuery = ws.query(query, secret).Encode()
	status, _, body, err := a.send(ctx, http.MethodGet, u.String(), nil, "")
	if err != nil {
		return nil, annotate(err, "%s", ws.tool)
	}
	if status != http.StatusOK {
		return nil, apiStatusError(ws.tool, status)
	}
	return body, nil
}

// apiStatusError is a tool's API answering with an error status: a request it refuses (bad
// key, bad query) is the flow's to fix and the model's to read; a timeout, a rate limit or a
// server error may pass, so Temporal retries it.
func apiStatusError(tool string, status int) error {
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
		return flowError("%s: the API answered HTTP %d", tool, status)
	}
	return fmt.Errorf("%s: the API answered HTTP %d", tool, status)
}

// searchResult is one hit as both search APIs describe it.
type searchResult struct {
	Title   string `json:"title"`
	Link    string `json:"link"`
	Snippet string `json:"snippet"`
}

// googleSearch is Google's Custom Search JSON API with the tool's credential
// (googleCustomSearchApi: googleCustomSearchApiKey and the engine id googleCustomSearchApiId);
// GOOGLE_CUSTOM_SEARCH_BASE_URL replaces its address.
var googleSearch = webSearch{tool: "googleCustomSearch", baseEnv: "GOOGLE_CUSTOM_SEARCH_BASE_URL", base: "https://www.googleapis.com/customsearch/v1",
	keys: []string{"googleCustomSearchApiKey", "googleCustomSearchApiId"},
	query: func(q string, secret map[string]string) url.Values {
		return url.Values{"key": {secret["googleCustomSearchApiKey"]}, "cx": {secret["googleCustomSearchApiId"]}, "q": {q}}
	}}

// googleCustomSearch answers with the results' titles, links and snippets.
func (a *Activities) googleCustomSearch(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	body, err := a.search(ctx, req, googleSearch)
	if err != nil {
		return "", err
	}
	var res struct {
		Items []searchResult `json:"items"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("googleCustomSearch: unreadable answer: %w", err)
	}
	out, err := json.Marshal(res.Items)
	return string(out), err
}

// serpSearch is SerpAPI's Google search with the tool's credential (serpApi: serpApiKey);
// SERPAPI_BASE_URL replaces its address.
var serpSearch = webSearch{tool: "serpAPI", baseEnv: "SERPAPI_BASE_URL", base: "https://serpapi.com/search",
	keys: []string{"serpApiKey"},
	query: func(q string, secret map[string]string) url.Values {
		return url.Values{"engine": {"google"}, "q": {q}, "api_key": {secret["serpApiKey"]}}
	}}

// serpAPI answers with the best of what SerpAPI finds: a direct answer box, else the organic
// results.
func (a *Activities) serpAPI(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	body, err := a.search(ctx, req, serpSearch)
	if err != nil {
		return "", err
	}
	var res struct {
		Error     string `json:"error"`
		AnswerBox struct {
			Answer  string `json:"answer"`
			Snippet string `json:"snippet"`
		} `json:"answer_box"`
		Organic []searchResult `json:"organic_results"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("serpAPI: unreadable answer: %w", err)
	}
	switch {
	case res.Error != "":
		return "", flowError("serpAPI: %s", res.Error)
	case res.AnswerBox.Answer != "":
		return res.AnswerBox.Answer, nil
	case res.AnswerBox.Snippet != "":
		return res.AnswerBox.Snippet, nil
	case len(res.Organic) == 0:
		return "No good search result found", nil
	}
	out, err := json.Marshal(res.Organic)
	return string(out), err
}

// gmailBase is the Gmail API; GMAIL_API_BASE_URL replaces it.
const gmailBase = "https://gmail.googleapis.com"

// gmailSend sends one email through the Gmail API with the tool's OAuth2 credential
// (gmailOAuth2: access_token). Flowgate does not refresh the token; an expired one fails the
// call with Gmail's 401, which is not retried.
func (a *Activities) gmailSend(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	// Flowise's Gmail tool also drafts, lists and labels; this one only sends.
	cfg := toolConfig(req)
	if kind := configString(cfg, "gmailType"); kind != "" && (kind != "messages" || !slices.Contains(stringList(cfg["messageActions"]), "sendMessage")) {
		return "", flowError("gmail: only sending messages is supported (gmailType messages, action sendMessage)")
	}
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	to, _ := args["to"].(string)
	subject, _ := args["subject"].(string)
	body, _ := args["body"].(string)
	if strings.TrimSpace(to) == "" {
		return "", flowError("gmail: no recipient")
	}
	secret, err := a.secret(ctx, toolSetting(req, "credential"))
	if err != nil {
		return "", err
	}
	token := secret["access_token"]
	if token == "" {
		return "", flowError("gmail: the credential has no access_token")
	}
	// RFC 822 headers must not carry line breaks a value could inject.
	clean := func(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
	mail := "To: " + clean(to) + "\r\nSubject: " + clean(subject) + "\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body
	payload, err := json.Marshal(map[string]string{"raw": base64.URLEncoding.EncodeToString([]byte(mail))})
	if err != nil {
		return "", err
	}
	target := strings.TrimRight(cmp.Or(os.Getenv("GMAIL_API_BASE_URL"), gmailBase), "/") + "/gmail/v1/users/me/messages/send"
	status, _, out, err := a.send(ctx, http.MethodPost, target,
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}, string(payload))
	if err != nil {
		return "", annotate(err, "gmail")
	}
	if status >= 400 {
		return "", apiStatusError("gmail", status)
	}
	var sent struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(out, &sent)
	return fmt.Sprintf("Email sent to %s (message %s)", to, sent.ID), nil
}
