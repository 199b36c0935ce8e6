package agentnodes

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// namedValues reads one of Flowise's lists of named values (headers and query parameters
// [{key, value}], function inputs [{variableName, variableValue}], tool arguments
// [{inputArgName, inputArgValue}]) with each value's variables resolved.
func namedValues(sc agentflow.VarsScope, v any, nameKey, valueKey string) map[string]string {
	list, _ := v.([]any)
	out := make(map[string]string, len(list))
	for _, item := range list {
		entry, _ := item.(map[string]any)
		name, _ := entry[nameKey].(string)
		value, _ := entry[valueKey].(string)
		if name != "" {
			out[name] = sc.Resolve(value)
		}
	}
	return out
}

// httpAuth adds the node's credential to its headers, as Flowise's HTTP node does: basic
// auth (httpBasicAuth: basicAuthUsername, basicAuthPassword), a bearer token (httpBearerToken:
// token) or an API key header (httpApiKey: key, value).
func (s *Steps) httpAuth(ctx context.Context, credentialID string, headers map[string]string) error {
	if credentialID == "" {
		return nil
	}
	secret, err := s.Secret(ctx, credentialID)
	if err != nil {
		return err
	}
	switch user, pass := secret["basicAuthUsername"], secret["basicAuthPassword"]; {
	case user != "" || pass != "":
		headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	case secret["token"] != "":
		headers["Authorization"] = "Bearer " + secret["token"]
	case secret["key"] != "" && secret["value"] != "":
		headers[secret["key"]] = secret["value"]
	}
	return nil
}

// HTTP calls the node's URL; the answer's body is its output.
func (s *Steps) HTTP(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	method := strings.ToUpper(strings.TrimSpace(n.Input("method")))
	if method == "" {
		method = http.MethodGet
	}
	target := strings.TrimSpace(text(req, sc, "url"))
	if target == "" {
		return node.StepResult{}, nodekit.FlowError("%s: the URL is empty", n)
	}
	u, err := url.Parse(target)
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: invalid URL: %v", n, err)
	}
	if q := namedValues(sc, n.Inputs["queryParams"], "key", "value"); len(q) > 0 {
		values := u.Query()
		for k, v := range q {
			values.Set(k, v)
		}
		u.RawQuery = values.Encode()
	}
	headers := namedValues(sc, n.Inputs["headers"], "key", "value")
	if err := s.httpAuth(ctx, n.Credential, headers); err != nil {
		return node.StepResult{}, nodekit.Annotate(err, "%s", n)
	}
	body := text(req, sc, "body")
	if body != "" && headers["Content-Type"] == "" && n.Input("bodyType") == "json" {
		headers["Content-Type"] = "application/json"
	}
	status, respHeaders, b, err := s.Send(ctx, method, u.String(), headers, body)
	if err != nil {
		return node.StepResult{}, nodekit.Annotate(err, "%s", n)
	}
	if status >= 400 {
		return node.StepResult{}, nodekit.FlowError("%s: %s %s answered %d: %.200s", n, method, nodekit.SafeURL(u), status, b)
	}
	content, data := string(b), any(string(b))
	switch n.Input("responseType") {
	case "base64", "arraybuffer":
		// Binary answers travel as base64 text, as Flowise returns them.
		content = base64.StdEncoding.EncodeToString(b)
		data = content
	case "text":
	default: // json, Flowise's default: parsed when it parses
		if strings.Contains(respHeaders.Get("Content-Type"), "json") || n.Input("responseType") == "json" {
			if err := json.Unmarshal(b, &data); err != nil {
				data = string(b)
			}
		}
	}
	out := map[string]any{"content": content, "http": map[string]any{"data": data, "status": status}}
	return node.StepResult{Input: map[string]any{"method": method, "url": nodekit.SafeURL(u)}, Output: out}, nil
}
