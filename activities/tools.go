package activities

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/flowgate/flowgate/agentflow"
	"github.com/flowgate/flowgate/jsrun"
	"github.com/flowgate/flowgate/llm"
)

// toolFunc runs one tool call and returns what the model reads back.
type toolFunc func(context.Context, agentflow.ToolRequest) (string, error)

// agentTool is a tool an agent may offer its model.
type agentTool struct {
	spec llm.Tool
	run  toolFunc
}

// agentTools maps each tool this version runs to its description and implementation. The
// names and descriptions follow Flowise's tools of the same names.
func (a *Activities) agentTools() map[string]agentTool {
	urlParam := func(extra string) json.RawMessage {
		props := `"url":{"type":"string","description":"the URL to request"}`
		if extra != "" {
			props += "," + extra
		}
		return json.RawMessage(`{"type":"object","properties":{` + props + `},"required":["url"]}`)
	}
	request := func(method string) toolFunc {
		return func(ctx context.Context, req agentflow.ToolRequest) (string, error) {
			return a.requestTool(ctx, method, req)
		}
	}
	const data = `"data":{"type":"string","description":"the body to send"}`
	return map[string]agentTool{
		"calculator": {llm.Tool{Name: "calculator", Description: "Useful for getting the result of a math expression. The input to this tool should be a valid mathematical expression.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"input":{"type":"string","description":"the expression"}},"required":["input"]}`)}, a.calculator},
		"currentDateTime": {llm.Tool{Name: "currentDateTime", Description: "Get the current date and time.",
			Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}, currentDateTime},
		"requestsGet":    {llm.Tool{Name: "requestsGet", Description: "Execute HTTP GET requests.", Parameters: urlParam("")}, request(http.MethodGet)},
		"requestsPost":   {llm.Tool{Name: "requestsPost", Description: "Execute HTTP POST requests.", Parameters: urlParam(data)}, request(http.MethodPost)},
		"requestsPut":    {llm.Tool{Name: "requestsPut", Description: "Execute HTTP PUT requests.", Parameters: urlParam(data)}, request(http.MethodPut)},
		"requestsDelete": {llm.Tool{Name: "requestsDelete", Description: "Execute HTTP DELETE requests.", Parameters: urlParam("")}, request(http.MethodDelete)},
		"gmail": {llm.Tool{Name: "gmail", Description: "Send an email with Gmail.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"to":{"type":"string"},"subject":{"type":"string"},"body":{"type":"string"}},"required":["to","subject","body"]}`)}, a.gmailSend},
		"googleCustomSearch": {llm.Tool{Name: "googleCustomSearch", Description: "Search the web with Google Custom Search. Useful for current events and facts.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"input":{"type":"string","description":"the search query"}},"required":["input"]}`)}, a.googleCustomSearch},
	}
}

// toolArgs decodes a call's JSON arguments; a model that wrote none sends "".
func toolArgs(call agentflow.AgentToolCall) (map[string]any, error) {
	args := map[string]any{}
	if strings.TrimSpace(call.Arguments) == "" {
		return args, nil
	}
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
		return nil, flowError("tool %s: arguments are not a JSON object: %v", call.Name, err)
	}
	return args, nil
}

// calculator evaluates an arithmetic expression. Only digits, operators, parentheses and
// spaces reach the JavaScript sandbox, so the expression can be nothing but arithmetic.
func (a *Activities) calculator(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	expr, _ := args["input"].(string)
	if strings.TrimSpace(expr) == "" || strings.Trim(expr, "0123456789.+-*/%() ") != "" {
		return "", flowError("calculator: %q is not an arithmetic expression", expr)
	}
	return jsrun.RunString(ctx, "return ("+expr+");", jsrun.Env{}, jsrun.Limits{Timeout: time.Second})
}

func currentDateTime(context.Context, agentflow.ToolRequest) (string, error) {
	return time.Now().UTC().Format(time.RFC3339), nil
}

// requestTool calls a URL through the SSRF-guarded client; the agent's tool settings may fix
// the URL (requestsGetUrl / requestsPostUrl) instead of letting the model choose.
func (a *Activities) requestTool(ctx context.Context, method string, req agentflow.ToolRequest) (string, error) {
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	target, _ := args["url"].(string)
	if fixed := toolSetting(req, req.Call.Name+"Url"); fixed != "" {
		target = fixed
	}
	body, _ := args["data"].(string)
	status, _, out, err := a.send(ctx, method, target, map[string]string{"Content-Type": "application/json"}, body)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("HTTP %d\n%s", status, out), nil
}

// toolSetting reads a setting of the called tool: from a Tool node's own settings, or from
// the agent's agentTools entry for it.
func toolSetting(req agentflow.ToolRequest, key string) string {
	if cfg, ok := req.Node.Inputs["toolAgentflowSelectedToolConfig"].(map[string]any); ok {
		v, _ := cfg[key].(string)
		return v
	}
	list, _ := req.Node.Inputs["agentTools"].([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		if m["agentSelectedTool"] != req.Call.Name {
			continue
		}
		cfg, _ := m["agentSelectedToolConfig"].(map[string]any)
		v, _ := cfg[key].(string)
		return v
	}
	return ""
}

// toolStep is a Tool node: it runs its tool once with the arguments it is given
// (toolInputArgs), without a model.
func (a *Activities) toolStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	name := n.Input("toolAgentflowSelectedTool")
	args := map[string]any{}
	for k, v := range namedValues(sc, n.Inputs["toolInputArgs"], "inputArgName", "inputArgValue") {
		args[k] = strings.TrimSpace(v)
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	result, err := a.runTool(ctx, agentflow.ToolRequest{Node: n, Call: agentflow.AgentToolCall{Name: name, Arguments: string(raw)}, Run: req.Run})
	if err != nil {
		return agentflow.StepResult{}, fmt.Errorf("%s: %w", n, err)
	}
	out := map[string]any{"content": result}
	state, err := withState(req, sc, "toolUpdateState", out)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	return agentflow.StepResult{Input: map[string]any{"tool": name, "toolInputArgs": args}, Output: out, State: state}, nil
}

// googleSearchBase is the Custom Search JSON API; GOOGLE_CUSTOM_SEARCH_BASE_URL replaces it.
const googleSearchBase = "https://www.googleapis.com/customsearch/v1"

// googleCustomSearch queries Google's Custom Search JSON API with the tool's credential
// (googleCustomSearchApi: googleCustomSearchApiKey and the engine id googleCustomSearchApiId)
// and answers with the results' titles, links and snippets.
func (a *Activities) googleCustomSearch(ctx context.Context, req agentflow.ToolRequest) (string, error) {
	args, err := toolArgs(req.Call)
	if err != nil {
		return "", err
	}
	query, _ := args["input"].(string)
	secret, err := a.secret(ctx, toolSetting(req, "credential"))
	if err != nil {
		return "", err
	}
	key, cx := secret["googleCustomSearchApiKey"], secret["googleCustomSearchApiId"]
	if key == "" || cx == "" {
		return "", flowError("googleCustomSearch: the credential needs googleCustomSearchApiKey and googleCustomSearchApiId")
	}
	u, err := url.Parse(cmp.Or(os.Getenv("GOOGLE_CUSTOM_SEARCH_BASE_URL"), googleSearchBase))
	if err != nil {
		return "", flowError("googleCustomSearch: invalid base URL: %v", err)
	}
	u.RawQuery = url.Values{"key": {key}, "cx": {cx}, "q": {query}}.Encode()
	status, _, body, err := a.send(ctx, http.MethodGet, u.String(), nil, "")
	if err != nil {
		// The error names the host, never the query string that holds the key.
		return "", fmt.Errorf("googleCustomSearch: %w", err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("googleCustomSearch: HTTP %d", status)
	}
	var res struct {
		Items []struct {
			Title   string `json:"title"`
			Link    string `json:"link"`
			Snippet string `json:"snippet"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("googleCustomSearch: unreadable answer: %w", err)
	}
	out, err := json.Marshal(res.Items)
	return string(out), err
}

// gmailBase is the Gmail API; GMAIL_API_BASE_URL replaces it.
const gmailBase = "https://gmail.googleapis.com"

// gmailSend sends one email through the Gmail API with the tool's OAuth2 credential
// (gmailOAuth2: access_token). Flowgate does not refresh the token; an expired one fails the
// call with Gmail's 401, which is not retried.
func (a *Activities) gmailSend(ctx context.Context, req agentflow.ToolRequest) (string, error) {
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
		return "", fmt.Errorf("gmail: %w", err)
	}
	if status >= 400 {
		return "", flowError("gmail: the API answered %d", status)
	}
	var sent struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(out, &sent)
	return fmt.Sprintf("Email sent to %s (message %s)", to, sent.ID), nil
}
