package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/flowgate/flowgate/workflows/node"
	"github.com/stretchr/testify/require"
)

func TestHealthAndVersion(t *testing.T) {
	h := newHarness(t)
	status, body := h.do("GET", "/api/v1/ping", nil)
	require.Equal(t, 200, status)
	require.Equal(t, "pong", string(body))
	var v map[string]string
	h.doJSON("GET", "/api/v1/version", nil, 200, &v)
	require.NotEmpty(t, v["version"])
	status, body = h.do("GET", "/api/v1/nowhere", nil)
	requireFlowiseError(t, status, body, 404, "not found")
}

func TestChatflowsAPI(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	flowData := h.loadFlow("llm-chain.json", cred)

	type chatflow struct {
		ID          string    `json:"id"`
		Name        string    `json:"name"`
		FlowData    string    `json:"flowData"`
		Type        string    `json:"type"`
		APIConfig   *string   `json:"apiConfig"`
		CreatedDate time.Time `json:"createdDate"`
		UpdatedDate time.Time `json:"updatedDate"`
	}
	var first, second, agent chatflow
	h.doJSON("POST", "/api/v1/chatflows", map[string]any{"name": "first", "flowData": flowData}, 200, &first)
	require.Equal(t, "CHATFLOW", first.Type)
	require.Equal(t, flowData, first.FlowData, "flowData is kept as the JSON string it was sent as")
	h.doJSON("POST", "/api/v1/chatflows", map[string]any{"name": "second", "flowData": flowData}, 200, &second)
	h.doJSON("POST", "/api/v1/chatflows", map[string]any{"name": "agent", "flowData": `{"nodes":[],"edges":[]}`, "type": "AGENTFLOW"}, 200, &agent)

	var all []chatflow
	h.doJSON("GET", "/api/v1/chatflows", nil, 200, &all)
	require.Len(t, all, 3)
	require.Equal(t, []string{"agent", "second", "first"}, []string{all[0].Name, all[1].Name, all[2].Name}, "newest first")

	var chatflows []chatflow
	h.doJSON("GET", "/api/v1/chatflows?type=CHATFLOW", nil, 200, &chatflows)
	require.Len(t, chatflows, 2)
	status, body := h.do("GET", "/api/v1/chatflows?type=NOPE", nil)
	requireFlowiseError(t, status, body, 400, "type must be one of")

	// Update moves the flow to the front and keeps what was not sent.
	var updated chatflow
	h.doJSON("PUT", "/api/v1/chatflows/"+first.ID, map[string]any{"name": "renamed", "apiConfig": `{"overrideConfig":{"status":true}}`}, 200, &updated)
	require.Equal(t, "renamed", updated.Name)
	require.Equal(t, flowData, updated.FlowData)
	require.NotNil(t, updated.APIConfig)
	require.True(t, updated.UpdatedDate.After(first.UpdatedDate))
	h.doJSON("GET", "/api/v1/chatflows", nil, 200, &all)
	require.Equal(t, "renamed", all[0].Name)

	var got chatflow
	h.doJSON("GET", "/api/v1/chatflows/"+first.ID, nil, 200, &got)
	require.Equal(t, "renamed", got.Name)

	var streaming map[string]bool
	h.doJSON("GET", "/api/v1/chatflows-streaming/"+first.ID, nil, 200, &streaming)
	require.True(t, streaming["isStreaming"])
	h.doJSON("GET", "/api/v1/chatflows-streaming/"+agent.ID, nil, 200, &streaming)
	require.True(t, streaming["isStreaming"], "agentflows always stream their events, as in Flowise")

	status, body = h.do("POST", "/api/v1/chatflows", map[string]any{"flowData": flowData})
	requireFlowiseError(t, status, body, 400, "name and flowData are required")

	// Deleting a flow deletes its messages.
	h.predict(first.ID, map[string]any{"question": "hi"})
	h.doJSON("DELETE", "/api/v1/chatflows/"+first.ID, nil, 200, nil)
	status, body = h.do("GET", "/api/v1/chatflows/"+first.ID, nil)
	requireFlowiseError(t, status, body, 404, "not found")
	h.requireNoMessages(first.ID)
	status, body = h.do("DELETE", "/api/v1/chatflows/"+first.ID, nil)
	requireFlowiseError(t, status, body, 404, "not found")
}

func TestCredentialsAPI(t *testing.T) {
	h := newHarness(t)
	var created map[string]any
	h.doJSON("POST", "/api/v1/credentials", map[string]any{
		"name": "openai", "credentialName": "openAIApi",
		"plainDataObj": map[string]any{"openAIApiKey": "sk-very-secret", "organization": "org-1"},
	}, 200, &created)
	id := created["id"].(string)
	require.NotContains(t, created, "encryptedData")
	require.NotContains(t, created, "plainDataObj")

	var list []map[string]any
	h.doJSON("GET", "/api/v1/credentials?credentialName=openAIApi", nil, 200, &list)
	require.Len(t, list, 1)
	require.NotContains(t, list[0], "encryptedData")
	h.doJSON("GET", "/api/v1/credentials?credentialName=anthropicApi", nil, 200, &list)
	require.Empty(t, list)

	// GET by id shows the fields, with the password field blanked.
	var got map[string]any
	h.doJSON("GET", "/api/v1/credentials/"+id, nil, 200, &got)
	plain := got["plainDataObj"].(map[string]any)
	require.Equal(t, "org-1", plain["organization"])
	blank := plain["openAIApiKey"].(string)
	require.NotEqual(t, "sk-very-secret", blank)
	require.NotContains(t, got, "encryptedData")

	// PUT with the blank sentinel keeps the stored key; a new field is merged.
	h.doJSON("PUT", "/api/v1/credentials/"+id, map[string]any{
		"name": "openai2", "plainDataObj": map[string]any{"openAIApiKey": blank, "organization": "org-2"},
	}, 200, nil)
	flowID := h.createFlow("f", h.loadFlow("llm-chain.json", id), nil)
	h.predict(flowID, map[string]any{"question": "hi"})
	require.Equal(t, "Bearer sk-very-secret", h.mock.Requests()[0].Headers.Get("Authorization"))
	h.doJSON("GET", "/api/v1/credentials/"+id, nil, 200, &got)
	require.Equal(t, "openai2", got["name"])
	require.Equal(t, "org-2", got["plainDataObj"].(map[string]any)["organization"])

	status, body := h.do("POST", "/api/v1/credentials", map[string]any{"name": "x"})
	requireFlowiseError(t, status, body, 400, "credentialName are required")
	h.doJSON("DELETE", "/api/v1/credentials/"+id, nil, 200, nil)
	status, body = h.do("GET", "/api/v1/credentials/"+id, nil)
	requireFlowiseError(t, status, body, 404, "not found")
	require.NotContains(t, h.logs.String(), "sk-very-secret")
}

// TestVariables: static and runtime variables reach every string input as {{$vars.name}}, and
// a caller may override only the variables the chatflow enables.
func TestVariables(t *testing.T) {
	h := newHarness(t)
	t.Setenv("FLOWGATE_E2E_AUDIENCE", "children")
	var tone map[string]any
	h.doJSON("POST", "/api/v1/variables", map[string]any{"name": "tone", "value": "cheerful"}, 200, &tone)
	h.doJSON("POST", "/api/v1/variables", map[string]any{"name": "FLOWGATE_E2E_AUDIENCE", "type": "runtime"}, 200, nil)
	status, body := h.do("POST", "/api/v1/variables", map[string]any{"name": "bad name"})
	requireFlowiseError(t, status, body, 400, "name must be")
	status, body = h.do("POST", "/api/v1/variables", map[string]any{"name": "x", "type": "secret"})
	requireFlowiseError(t, status, body, 400, "type must be")

	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	flowData := editFlow(t, h.loadFlow("llm-chain.json", cred), func(nodes []any, _ *[]any) {
		nodeData(nodes, "promptTemplate_0")["inputs"].(map[string]any)["template"] =
			"Be {{$vars.tone}} for {{ $vars.FLOWGATE_E2E_AUDIENCE }} in chat {{$flow.chatId}}: {question}"
	})
	id := h.createFlow("vars", flowData, map[string]any{"apiConfig": `{"overrideConfig":{"status":true,"variables":[{"name":"tone","enabled":true}]}}`})

	h.predict(id, map[string]any{"question": "hi", "chatId": "c1"})
	require.Equal(t, "Be cheerful for children in chat c1: hi", h.mock.Requests()[0].Messages[0].Content)

	h.predict(id, map[string]any{"question": "hi", "chatId": "c2", "overrideConfig": map[string]any{"vars": map[string]any{"tone": "grumpy", "FLOWGATE_E2E_AUDIENCE": "adults"}}})
	require.Equal(t, "Be grumpy for children in chat c2: hi", h.mock.Requests()[1].Messages[0].Content, "only enabled variables are overridden")

	h.doJSON("PUT", "/api/v1/variables/"+tone["id"].(string), map[string]any{"value": "calm"}, 200, nil)
	var list []map[string]any
	h.doJSON("GET", "/api/v1/variables", nil, 200, &list)
	require.Len(t, list, 2)
	h.doJSON("DELETE", "/api/v1/variables/"+tone["id"].(string), nil, 200, nil)
	status, body = h.do("DELETE", "/api/v1/variables/"+tone["id"].(string), nil)
	requireFlowiseError(t, status, body, 404, "not found")
}

// TestVariablesStayOutOfHistory: a run's workflow input carries no stored variable, and the
// value of a runtime variable (the server's environment: a secret) reaches the model without
// entering the run's history, in a chatflow and in an agentflow, whose executed data names the
// variable instead.
func TestVariablesStayOutOfHistory(t *testing.T) {
	h := newHarness(t)
	t.Setenv("FLOWGATE_E2E_SECRET", "rt-secret-8c1f")
	h.doJSON("POST", "/api/v1/variables", map[string]any{"name": "FLOWGATE_E2E_SECRET", "type": "runtime"}, 200, nil)
	h.doJSON("POST", "/api/v1/variables", map[string]any{"name": "unused", "value": "static-unused-77e2"}, 200, nil)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})

	chat := editFlow(t, h.loadFlow("conversation-chain.json", cred), func(nodes []any, _ *[]any) {
		nodeData(nodes, "conversationChain_0")["inputs"].(map[string]any)["systemMessagePrompt"] = "The password is {{$vars.FLOWGATE_E2E_SECRET}}."
	})
	chatID := h.createFlow("secret chat", chat, nil)
	h.predict(chatID, map[string]any{"question": "hi", "chatId": "s1"})
	require.Equal(t, "The password is rt-secret-8c1f.", h.mock.Requests()[0].Messages[0].Content)
	history := h.historyJSON(node.WorkflowID(chatID, "s1"))
	require.NotContains(t, history, "rt-secret-8c1f")
	require.NotContains(t, history, "static-unused-77e2", "a variable the flow does not use is nowhere in its run")

	model := map[string]any{"credential": cred, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1"}
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("llmAgentflow_0", "llmAgentflow", "Answer", map[string]any{"llmModel": "chatOpenAI", "llmModelConfig": model,
			"llmMessages": []any{map[string]any{"role": "system", "content": "<p>The password is {{$vars.FLOWGATE_E2E_SECRET}}.</p>"}}}),
	}, "edges": []any{afEdge("startAgentflow_0", "", "llmAgentflow_0")}})
	require.NoError(t, err)
	agentID := h.createFlow("secret agent", string(raw), map[string]any{"type": "AGENTFLOW"})
	status, answer := h.do("POST", "/api/v1/prediction/"+agentID, map[string]any{"question": "hi", "chatId": "s2"})
	require.Equal(t, 200, status, "body: %s", answer)
	require.Equal(t, "The password is rt-secret-8c1f.", h.mock.Requests()[1].Messages[0].Content)
	history = h.historyJSON(node.WorkflowID(agentID, "s2"))
	require.NotContains(t, history, "rt-secret-8c1f")
	require.NotContains(t, history, "static-unused-77e2")
	require.Contains(t, string(answer), "{{$vars.FLOWGATE_E2E_SECRET}}", "agentFlowExecutedData names the variable it sent")
	require.NotContains(t, string(answer), "rt-secret-8c1f")
}
