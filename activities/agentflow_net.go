package activities

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/sandbox/jsrun"
	"github.com/flowgate/flowgate/internal/sandbox/netguard"
)

// maxResponseBytes bounds what a node reads of an HTTP answer.
const maxResponseBytes = 10 << 20

// send makes one HTTP request through the node client, which refuses private, loopback and
// metadata addresses (HTTP_SECURITY_CHECK, HTTP_DENY_LIST) also after redirects.
func (a *Activities) send(ctx context.Context, method, target string, headers map[string]string, body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, flowError("invalid request %s %s: %v", method, target, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := a.HTTP.Do(req)
	if err != nil {
		if errors.Is(err, netguard.ErrForbidden) {
			var fe *netguard.ForbiddenError
			if errors.As(err, &fe) {
				return 0, nil, nil, flowError("request to %s refused: %s", fe.Host, fe.Reason)
			}
			return 0, nil, nil, flowError("request refused: %v", err)
		}
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, safeURL(req.URL), transportError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read the answer of %s: %w", safeURL(req.URL), err)
	}
	if len(b) > maxResponseBytes {
		return 0, nil, nil, flowError("the answer of %s is over %d bytes", safeURL(req.URL), maxResponseBytes)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// safeURL names a URL in errors and records without credentials, query or fragment: query
// strings often carry API keys.
func safeURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// transportError drops the full URL net/http puts in its errors, for the same reason.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fetch lets sandboxed JavaScript call out through the same guarded client.
func (a *Activities) fetch(ctx context.Context, method, target string, headers map[string]string, body string) (int, map[string]string, string, error) {
	status, h, b, err := a.send(ctx, method, target, headers, body)
	if err != nil {
		return 0, nil, "", err
	}
	return status, map[string]string{"Content-Type": h.Get("Content-Type")}, string(b), nil
}

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
func (a *Activities) httpAuth(ctx context.Context, credentialID string, headers map[string]string) error {
	if credentialID == "" {
		return nil
	}
	secret, err := a.secret(ctx, credentialID)
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

// httpStep calls the node's URL; the answer's body is its output.
func (a *Activities) httpStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	method := strings.ToUpper(strings.TrimSpace(n.Input("method")))
	if method == "" {
		method = http.MethodGet
	}
	target := strings.TrimSpace(text(req, sc, "url"))
	if target == "" {
		return agentflow.StepResult{}, flowError("%s: the URL is empty", n)
	}
	u, err := url.Parse(target)
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: invalid URL: %v", n, err)
	}
	if q := namedValues(sc, n.Inputs["queryParams"], "key", "value"); len(q) > 0 {
		values := u.Query()
		for k, v := range q {
			values.Set(k, v)
		}
		u.RawQuery = values.Encode()
	}
	headers := namedValues(sc, n.Inputs["headers"], "key", "value")
	if err := a.httpAuth(ctx, n.Credential, headers); err != nil {
		return agentflow.StepResult{}, annotate(err, "%s", n)
	}
	body := text(req, sc, "body")
	if body != "" && headers["Content-Type"] == "" && n.Input("bodyType") == "json" {
		headers["Content-Type"] = "application/json"
	}
	status, respHeaders, b, err := a.send(ctx, method, u.String(), headers, body)
	if err != nil {
		return agentflow.StepResult{}, annotate(err, "%s", n)
	}
	if status >= 400 {
		return agentflow.StepResult{}, flowError("%s: %s %s answered %d: %.200s", n, method, safeURL(u), status, b)
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
	return agentflow.StepResult{Input: map[string]any{"method": method, "url": safeURL(u)}, Output: out}, nil
}

// jsEnv is what sandboxed code sees, as in Flowise: $vars, $flow (ids, the question and the
// state), its own inputs as $<name>, and fetch() through the SSRF-guarded client.
func (a *Activities) jsEnv(run agentflow.Run, state map[string]any, inputs map[string]any) jsrun.Env {
	vars := make(map[string]any, len(run.Vars))
	for k, v := range run.Vars {
		vars[k] = v
	}
	flowVars := map[string]any{"sessionId": run.SessionID, "chatId": run.ChatID, "chatflowId": run.ChatflowID,
		"input": run.Question, "state": state}
	return jsrun.Env{Vars: vars, Flow: flowVars, Input: inputs, Fetch: a.fetch}
}

// customFunctionStep runs the node's JavaScript in the sandbox with $flow, $vars and its
// input variables; what it returns is the output.
func (a *Activities) customFunctionStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	inputs := map[string]any{}
	for name, value := range namedValues(sc, n.Inputs["customFunctionInputVariables"], "variableName", "variableValue") {
		inputs[name] = value
	}
	result, err := jsrun.RunString(ctx, n.Input("customFunctionJavascriptFunction"), a.jsEnv(req.Run, req.State, inputs), jsrun.Limits{})
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: %v", n, err)
	}
	out := map[string]any{"content": result}
	state, err := withState(req, sc, "customFunctionUpdateState", out)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	return agentflow.StepResult{Input: map[string]any{"inputVariables": inputs}, Output: out, State: state}, nil
}
