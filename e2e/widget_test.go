package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// page is a page of another site calling Flowgate as Flowise's chat widget does: with its
// Origin, without an API key, preflighting what a browser preflights.
type page struct {
	h      *harness
	origin string
}

// call sends body (JSON, or nothing when nil) and returns the answer and its body.
func (p page) call(method, path string, body any) (*http.Response, []byte) {
	p.h.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(p.h.t, err)
		r = strings.NewReader(string(raw))
		// application/json is not a simple type: the browser asks first.
		p.preflight(method, path, "content-type")
	}
	req, err := http.NewRequest(method, p.h.base+path, r)
	require.NoError(p.h.t, err)
	req.Header.Set("Origin", p.origin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	require.NoError(p.h.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(p.h.t, err)
	require.Equal(p.h.t, p.origin, resp.Header.Get("Access-Control-Allow-Origin"), "%s %s: the page may read the answer", method, path)
	return resp, out
}

// preflight asks what the browser asks before a call that sends headers.
func (p page) preflight(method, path, headers string) {
	p.h.t.Helper()
	req, err := http.NewRequest("OPTIONS", p.h.base+path, nil)
	require.NoError(p.h.t, err)
	req.Header.Set("Origin", p.origin)
	req.Header.Set("Access-Control-Request-Method", method)
	req.Header.Set("Access-Control-Request-Headers", headers)
	resp, err := httpClient.Do(req)
	require.NoError(p.h.t, err)
	resp.Body.Close()
	require.Equal(p.h.t, http.StatusNoContent, resp.StatusCode, "preflight of %s %s", method, path)
	require.Equal(p.h.t, p.origin, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(p.h.t, strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), headers)
}

// TestWidgetOnAnotherSite: the calls Flowise's chat widget makes from a page of another site,
// in its order: its settings, whether the flow streams, two streamed questions in one chat
// (the second remembers the first), a thumb up with its reason, and the lead form; the owner
// then reads the feedback and the lead with the key. A chatflow whose allowedOrigins name
// another site refuses the page with its message.
func TestWidgetOnAnotherSite(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-widget"})
	cfg := `{"welcomeMessage":"Hello from Flowgate","chatFeedback":{"status":true},"leads":{"status":true,"name":true,"email":true}}`
	flowID := h.createFlow("widget", h.loadFlow("conversation-chain.json", cred), map[string]any{"chatbotConfig": cfg})
	p := page{h: h, origin: "http://127.0.0.1:18111"}

	_, raw := p.call("GET", "/api/v1/public-chatbotConfig/"+flowID, nil)
	var settings struct {
		WelcomeMessage string         `json:"welcomeMessage"`
		Uploads        map[string]any `json:"uploads"`
		FlowData       string         `json:"flowData"`
	}
	require.NoError(t, json.Unmarshal(raw, &settings), "%s", raw)
	require.Equal(t, "Hello from Flowgate", settings.WelcomeMessage)
	require.Equal(t, false, settings.Uploads["isImageUploadAllowed"])
	require.NotContains(t, settings.FlowData, cred, "no credential reaches the page")
	_, raw = p.call("GET", "/api/v1/chatflows-streaming/"+flowID, nil)
	require.JSONEq(t, `{"isStreaming":true}`, string(raw))

	ask := func(question string) (text string, metadata map[string]any) {
		resp, raw := p.call("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": question, "chatId": "widget-chat", "streaming": true})
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		events := parseSSE(t, raw)
		for _, e := range events {
			if e.Event == "metadata" {
				require.NoError(t, json.Unmarshal(e.Data, &metadata))
			}
		}
		return tokens(t, events), metadata
	}
	first, _ := ask("my name is Ada")
	require.Equal(t, llmmock.Answer("my name is Ada"), first)
	second, meta := ask("what is my name?")
	require.Equal(t, llmmock.Answer("what is my name?"), second)
	require.Len(t, h.mock.Requests()[1].Messages, 4, "the second question came with the first exchange")

	answerID := meta["chatMessageId"].(string)
	_, raw = p.call("POST", "/api/v1/feedback/"+flowID, map[string]any{
		"chatflowid": flowID, "chatId": "widget-chat", "messageId": answerID, "rating": "THUMBS_UP", "content": ""})
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &created), "%s", raw)
	_, raw = p.call("PUT", "/api/v1/feedback/"+created.ID, map[string]any{"content": "spot on"})
	require.JSONEq(t, `{"status":"OK"}`, string(raw))
	_, raw = p.call("POST", "/api/v1/leads/", map[string]any{"chatflowid": flowID, "chatId": "widget-chat", "name": "Ada", "email": "ada@example.com"})
	require.Contains(t, string(raw), `"email":"ada@example.com"`)

	var stored []map[string]any
	h.doJSON("GET", "/api/v1/feedback/"+flowID, nil, 200, &stored)
	require.Len(t, stored, 1)
	require.Equal(t, answerID, stored[0]["messageId"])
	require.Equal(t, "THUMBS_UP", stored[0]["rating"])
	require.Equal(t, "spot on", stored[0]["content"])
	h.doJSON("GET", "/api/v1/leads/"+flowID, nil, 200, &stored)
	require.Len(t, stored, 1)
	require.Equal(t, "Ada", stored[0]["name"])

	narrowed := h.createFlow("narrowed", h.loadFlow("conversation-chain.json", cred),
		map[string]any{"chatbotConfig": `{"allowedOrigins":["https://shop.example"],"allowedOriginsError":"Only on shop.example"}`})
	resp, raw := p.call("POST", "/api/v1/prediction/"+narrowed, map[string]any{"question": "hi", "streaming": true})
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "Only on shop.example", string(raw), "as text, which the widget shows")
	resp, raw = p.call("GET", "/api/v1/public-chatbotConfig/"+narrowed, nil)
	requireFlowiseError(t, resp.StatusCode, raw, http.StatusForbidden, "Only on shop.example")
	shop := page{h: h, origin: "https://shop.example"}
	resp, raw = shop.call("POST", "/api/v1/prediction/"+narrowed, map[string]any{"question": "hi"})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Len(t, h.mock.Requests(), 3, "the refused page ran nothing")
}

// TestTurnsWithoutMemoryKeepTheirSession: a flow without memory saves its turns under the
// chat's session, as Flowise does (the chat id, or the overrideConfig sessionId), and answers
// it.
func TestTurnsWithoutMemoryKeepTheirSession(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	flowID := h.createFlow("chain", h.loadFlow("llm-chain.json", cred), nil)

	for _, c := range []struct {
		body    map[string]any
		session string
	}{
		{map[string]any{"question": "hi", "chatId": "chat-1"}, "chat-1"},
		{map[string]any{"question": "hi", "overrideConfig": map[string]any{"sessionId": "session-2"}}, "session-2"},
		{map[string]any{"question": "hi"}, ""}, // a new chat: its id
	} {
		ans := h.predict(flowID, c.body)
		want := c.session
		if want == "" {
			want = ans.ChatID
		}
		require.Equal(t, want, ans.SessionID)
		var msgs []map[string]any
		h.doJSON("GET", fmt.Sprintf("/api/v1/chatmessage/%s?chatId=%s", flowID, ans.ChatID), nil, 200, &msgs)
		require.Len(t, msgs, 2)
		for _, m := range msgs {
			require.Equal(t, want, m["sessionId"], "%v", m)
		}
	}
}
