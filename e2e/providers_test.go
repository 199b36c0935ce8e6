package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestEveryChatModelNode runs llm-chain.json with its model node swapped for each provider,
// JSON and streaming, through that provider's own wire protocol (the mock speaks all of them).
func TestEveryChatModelNode(t *testing.T) {
	h := newHarness(t)
	creds := modelCredentials(h)
	cases := []struct {
		kind, path, authHeader, authValue string
	}{
		{"chatOpenAI", "/v1/chat/completions", "Authorization", "Bearer sk-openai"},
		{"azureChatOpenAI", "/openai/deployments/dep/chat/completions", "api-key", "az"},
		{"chatAnthropic", "/v1/messages", "X-Api-Key", "sk-ant"},
		{"chatOllama", "/api/chat", "Authorization", "Bearer ollama-key"},
		{"groqChat", "/v1/chat/completions", "Authorization", "Bearer gsk-groq"},
		// A provider through chatmodels.Compatible: one row in the kinds table, one file.
		{"chatDeepseek", "/v1/chat/completions", "Authorization", "Bearer sk-deepseek"},
		{"chatMistralAI", "/v1/chat/completions", "Authorization", "Bearer mistral-key"},
		{"chatGoogleGenerativeAI", "/v1beta/models/gemini-2.0-flash:generateContent", "X-Goog-Api-Key", "AIza-test"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			h.mock.Reset()
			flowData := editFlow(t, h.loadFlow("llm-chain.json", creds[c.kind]), func(nodes []any, _ *[]any) {
				swapModel(t, h, nodeData(nodes, "chatOpenAI_0"), c.kind)
			})
			id := h.createFlow(c.kind, flowData, nil)
			want := llmmock.Answer("You are a benchmark bot. Reply to: hi")
			ans := h.predict(id, map[string]any{"question": "hi"})
			require.Equal(t, want, ans.Text)
			_, events := h.stream(id, map[string]any{"question": "hi"})
			require.Equal(t, want, tokens(t, events))

			reqs := h.mock.Requests()
			require.Len(t, reqs, 2)
			require.Equal(t, c.path, reqs[0].Path)
			require.Equal(t, c.authValue, reqs[0].Headers.Get(c.authHeader))
			require.False(t, reqs[0].Stream)
			require.True(t, reqs[1].Stream)
			require.Contains(t, h.activityTypes(node.WorkflowID(id, ans.ChatID)), "node."+c.kind)
		})
	}
}

// modelCredentials are a credential for each chat model kind.
func modelCredentials(h *harness) map[string]string {
	return map[string]string{
		"chatOpenAI":             h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-openai"}),
		"chatAnthropic":          h.createCredential("anthropicApi", map[string]any{"anthropicApiKey": "sk-ant"}),
		"chatOllama":             h.createCredential("ollamaApi", map[string]any{"ollamaApiKey": "ollama-key"}),
		"groqChat":               h.createCredential("groqApi", map[string]any{"groqApiKey": "gsk-groq"}),
		"chatDeepseek":           h.createCredential("deepseekApi", map[string]any{"deepseekApiKey": "sk-deepseek"}),
		"chatMistralAI":          h.createCredential("mistralAIApi", map[string]any{"mistralAIAPIKey": "mistral-key"}),
		"chatGoogleGenerativeAI": h.createCredential("googleGenerativeAI", map[string]any{"googleGenerativeAPIKey": "AIza-test"}),
		"azureChatOpenAI": h.createCredential("azureOpenAIApi", map[string]any{
			"azureOpenAIApiKey": "az", "azureOpenAIApiInstanceName": "i",
			"azureOpenAIApiDeploymentName": "dep", "azureOpenAIApiVersion": "2024-02-01",
		}),
	}
}

// swapModel turns a chatOpenAI node's data into a node of another chat model kind, talking to
// the harness's mock.
func swapModel(t *testing.T, h *harness, data map[string]any, kind string) {
	t.Helper()
	data["name"] = kind
	inputs := data["inputs"].(map[string]any)
	switch kind {
	case "chatAnthropic":
		inputs["modelName"] = "claude-3-5-haiku-latest"
		t.Setenv("ANTHROPIC_BASE_URL", h.mock.URL)
	case "chatOllama":
		inputs["modelName"] = "llama3.2"
		inputs["baseUrl"] = h.mock.URL
	case "azureChatOpenAI":
		inputs["basepath"] = h.mock.URL + "/openai/deployments"
	case "chatGoogleGenerativeAI":
		inputs["modelName"] = "gemini-2.0-flash"
		inputs["baseUrl"] = h.mock.URL
	case "chatMistralAI":
		delete(inputs, "basepath")
		inputs["modelName"] = "mistral-small-latest"
		inputs["overrideEndpoint"] = h.mock.URL + "/v1"
	case "groqChat":
		delete(inputs, "basepath") // Groq's node has none
		inputs["modelName"] = "llama-3.3-70b-versatile"
		t.Setenv("GROQ_BASE_URL", h.mock.URL+"/v1")
	case "chatDeepseek":
		delete(inputs, "basepath")
		inputs["modelName"] = "deepseek-chat"
		t.Setenv("FLOWGATE_DEEPSEEK_BASE_URL", h.mock.URL+"/v1")
	}
}
