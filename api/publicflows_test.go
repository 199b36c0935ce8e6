package api

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/models"
)

// imageFlow is a chain whose model takes images, with a credential and a password input that
// no public route may show.
const imageFlow = `{"nodes":[
	{"id":"chatOpenAI_0","data":{"name":"chatOpenAI","label":"ChatOpenAI","category":"Chat Models","credential":"cred-secret",
		"inputs":{"allowImageUploads":true,"modelName":"gpt-4o","openAIApiKey":"sk-secret"},
		"inputParams":[{"name":"openAIApiKey","type":"password"},{"name":"allowImageUploads","type":"boolean"}]}},
	{"id":"llmChain_0","data":{"name":"llmChain","label":"LLM Chain","category":"Chains","inputs":{}}}],"edges":[]}`

func (a *testAPI) saveFlow(f *models.ChatFlow) *models.ChatFlow {
	a.t.Helper()
	require.NoError(a.t, a.store.CreateChatFlow(context.Background(), f))
	return f
}

// TestPublicChatbotConfig: the widget gets the chatflow's chatbotConfig without its allowed
// origins, what its chat may upload, the flow without secrets, and isTTSEnabled; a chatflow
// without settings gets the last three; an unknown one 404.
func TestPublicChatbotConfig(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	cfg := `{"welcomeMessage":"Hello!","starterPrompts":{"0":{"prompt":"What can you do?"}},"leads":{"status":true,"title":"Who are you?"},
		"allowedOrigins":["https://shop.example"],"allowedOriginsError":"no","chatFeedback":{"status":true},
		"fullFileUpload":{"status":true,"allowedUploadFileTypes":"text/plain"}}`
	f := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-000000000001", Name: "bot", FlowData: imageFlow, ChatbotConfig: &cfg})

	var got map[string]any
	a.call("GET", "/api/v1/public-chatbotConfig/"+f.ID, "", http.StatusOK, &got)
	require.Equal(t, "Hello!", got["welcomeMessage"])
	require.Equal(t, map[string]any{"0": map[string]any{"prompt": "What can you do?"}}, got["starterPrompts"])
	require.Equal(t, map[string]any{"status": true, "title": "Who are you?"}, got["leads"])
	require.Equal(t, map[string]any{"status": true}, got["chatFeedback"])
	require.Equal(t, map[string]any{"status": true, "allowedUploadFileTypes": "text/plain"}, got["fullFileUpload"])
	require.NotContains(t, got, "allowedOrigins")
	require.NotContains(t, got, "allowedOriginsError")
	require.Equal(t, false, got["isTTSEnabled"])
	require.Equal(t, map[string]any{
		"isSpeechToTextEnabled": false, "isImageUploadAllowed": true, "isRAGFileUploadAllowed": false,
		"imgUploadSizeAndTypes":  []any{map[string]any{"fileTypes": []any{"image/gif", "image/jpeg", "image/png", "image/webp"}, "maxUploadSize": 5.0}},
		"fileUploadSizeAndTypes": []any{},
	}, got["uploads"])
	flowData := got["flowData"].(string)
	require.NotContains(t, flowData, "cred-secret")
	require.NotContains(t, flowData, "sk-secret")
	require.Contains(t, flowData, "gpt-4o")

	bare := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-000000000002", Name: "bare", FlowData: `{"nodes":[],"edges":[]}`})
	got = nil
	a.call("GET", "/api/v1/public-chatbotConfig/"+bare.ID, "", http.StatusOK, &got)
	require.ElementsMatch(t, []string{"uploads", "flowData", "isTTSEnabled"}, slices.Collect(maps.Keys(got)))

	a.requireError("GET", "/api/v1/public-chatbotConfig/1a2b3c4d-0000-4000-8000-00000000dead", "", http.StatusNotFound,
		"Chatflow 1a2b3c4d-0000-4000-8000-00000000dead not found")
	a.logs.requireNoErrors(t)
}

// TestOfferedUploadsAreTheAcceptedOnes: what public-chatbotConfig and chatflows-uploads say a
// chat may upload is what the upload policy takes.
func TestOfferedUploadsAreTheAcceptedOnes(t *testing.T) {
	rag := `{"nodes":[
		{"id":"pdfFile_0","data":{"name":"pdfFile","category":"Document Loaders","inputParams":[{"type":"file","fileType":".pdf, .txt"}]}},
		{"id":"memoryVectorStore_0","data":{"name":"memoryVectorStore","category":"Vector Stores","inputs":{"fileUpload":true}}}],
		"edges":[{"source":"pdfFile_0","target":"memoryVectorStore_0","targetHandle":"memoryVectorStore_0-input-document-Document"}]}`
	agent := `{"nodes":[{"id":"agentAgentflow_0","data":{"name":"agentAgentflow","category":"Agent Flows",
		"inputs":{"agentModelConfig":{"allowImageUploads":true}}}}],"edges":[]}`
	a := newTestAPI(t, "sqlite")
	for i, flowData := range []string{imageFlow, rag, agent, `{"nodes":[],"edges":[]}`, "not json"} {
		f := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-00000000010" + string(rune('0'+i)), Name: "f", FlowData: flowData})
		var offered uploadsConfig
		a.call("GET", "/api/v1/chatflows-uploads/"+f.ID, "", http.StatusOK, &offered)
		p := policyOf(f)
		require.Equal(t, offered.IsImageUploadAllowed, p.check("file", "cat.png", "image/png", 10) == nil, flowData)
		for _, img := range offered.ImgUploadSizeAndTypes {
			for _, typ := range img.FileTypes {
				require.NoError(t, p.check("file", "x."+mimeExtensions[typ], typ, img.MaxUploadSize<<20), typ)
			}
			require.Error(t, p.check("file", "x.png", "image/png", img.MaxUploadSize<<20+1))
		}
		require.Equal(t, offered.IsRAGFileUploadAllowed, len(offered.FileUploadSizeAndTypes) > 0)
		for _, files := range offered.FileUploadSizeAndTypes {
			for _, ext := range files.FileTypes {
				require.NoError(t, p.check("file:rag", "doc"+ext, map[string]string{".pdf": "application/pdf", ".txt": "text/plain"}[ext], 10), ext)
			}
		}
		require.Equal(t, offered.IsRAGFileUploadAllowed, p.check("file:rag", "doc.pdf", "application/pdf", 10) == nil, flowData)
		require.False(t, offered.IsSpeechToTextEnabled)
		require.Error(t, p.check("audio", "a.webm", "audio/webm", 10))
	}
	a.requireError("GET", "/api/v1/chatflows-uploads/1a2b3c4d-0000-4000-8000-00000000dead", "", http.StatusNotFound, "not found")
}

// TestPublicChatflows: a chatflow marked public is shown to anyone, without its secrets; any
// other only with a management key; an unknown one is 404.
func TestPublicChatflows(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	yes, no := true, false
	shared := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-000000000201", Name: "shared", FlowData: imageFlow, IsPublic: &yes})
	private := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-000000000202", Name: "private", FlowData: imageFlow, IsPublic: &no})

	resp := a.raw("GET", "/api/v1/public-chatflows/"+shared.ID, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got models.ChatFlow
	require.NoError(t, json.Unmarshal([]byte(resp.body), &got))
	require.Equal(t, "shared", got.Name)
	require.NotContains(t, got.FlowData, "sk-secret")
	require.NotContains(t, got.FlowData, "cred-secret")

	resp = a.raw("GET", "/api/v1/public-chatflows/"+private.ID, "")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusUnauthorized, "Unauthorized")
	resp = a.raw("GET", "/api/v1/public-chatflows/"+private.ID, "", "Authorization", "Bearer not-a-key")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusUnauthorized, "Unauthorized")
	a.call("GET", "/api/v1/public-chatflows/"+private.ID, "", http.StatusOK, &got)
	require.Equal(t, imageFlow, got.FlowData, "the key holder sees the flow as saved")

	resp = a.raw("GET", "/api/v1/public-chatflows/1a2b3c4d-0000-4000-8000-00000000dead", "")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusNotFound, "Chatflow 1a2b3c4d-0000-4000-8000-00000000dead not found")
}

// TestChatflowsOfAPIKey: the chatflows a key may run are those bound to it and those bound to
// none, by name; ?keyonly leaves the unbound out; a key that is not one is 401.
func TestChatflowsOfAPIKey(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	var listed []struct {
		ID string `json:"id"`
	}
	a.call("GET", "/api/v1/apikey", "", http.StatusOK, &listed)
	mine := listed[0].ID
	var other struct {
		ID     string `json:"id"`
		APIKey string `json:"apiKey"`
	}
	a.call("POST", "/api/v1/apikey", `{"keyName":"other"}`, http.StatusOK, &other)
	empty := ""
	for i, f := range []struct {
		name string
		key  *string
	}{{"zeta", &mine}, {"alpha", nil}, {"beta", &other.ID}, {"gamma", &empty}, {"delta", &mine}} {
		a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-00000000030" + string(rune('0'+i)), Name: f.name, FlowData: "{}", APIKeyID: f.key})
	}
	names := func(path string) []string {
		var flows []models.ChatFlow
		resp := a.raw("GET", path, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, resp.body)
		require.NoError(t, json.Unmarshal([]byte(resp.body), &flows))
		out := []string{}
		for _, f := range flows {
			out = append(out, f.Name)
		}
		return out
	}
	require.Equal(t, []string{"alpha", "delta", "gamma", "zeta"}, names("/api/v1/chatflows/apikey/"+a.key))
	require.Equal(t, []string{"delta", "zeta"}, names("/api/v1/chatflows/apikey/"+a.key+"?keyonly=true"))
	require.Equal(t, []string{"alpha", "beta", "gamma"}, names("/api/v1/chatflows/apikey/"+other.APIKey))

	resp := a.raw("GET", "/api/v1/chatflows/apikey/not-a-key", "")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusUnauthorized, "Unauthorized")
}

// TestChatbotConfigMustBeAnObject: a chatbotConfig the widget's routes could not read is
// refused when saved.
func TestChatbotConfigMustBeAnObject(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	for _, cfg := range []string{`[]`, `"x"`, `{"allowedOrigins":"https://x.example"}`, `{`, `null`} {
		body, err := json.Marshal(map[string]any{"name": "x", "flowData": "{}", "chatbotConfig": cfg})
		require.NoError(t, err)
		a.requireError("POST", "/api/v1/chatflows", string(body), http.StatusBadRequest, "Invalid chatbotConfig")
	}
	a.call("POST", "/api/v1/chatflows", `{"name":"x","flowData":"{}","chatbotConfig":"{\"allowedOrigins\":[\"https://x.example\"]}"}`, http.StatusOK, nil)
	a.call("POST", "/api/v1/chatflows", `{"name":"x","flowData":"{}","chatbotConfig":""}`, http.StatusOK, nil)
}
