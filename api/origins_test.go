package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
)

// widgetCalls are the calls Flowise's chat widget makes, by method and path, with a body that
// gets past the origin check (or is refused after it without running anything), for a chatflow.
func widgetCalls(flowID string) []struct{ method, path, body string } {
	return []struct{ method, path, body string }{
		{"GET", "/api/v1/public-chatbotConfig/" + flowID, ""},
		{"GET", "/api/v1/chatflows-streaming/" + flowID, ""},
		{"POST", "/api/v1/prediction/" + flowID, `{"question":"hi","chatId":"bad\u0007id"}`},
		{"POST", "/api/v1/attachments/" + flowID + "/c1", ""},
		{"PUT", "/api/v1/chatmessage/abort/" + flowID + "/c1", ""},
		{"POST", "/api/v1/feedback/" + flowID, `{"messageId":"6f1e2d3c-0000-4000-8000-0000000000ff","rating":"THUMBS_UP"}`},
		{"POST", "/api/v1/leads/", `{"chatflowid":"` + flowID + `","chatId":"bad\u0007id"}`},
		{"GET", "/api/v1/get-upload-file?chatflowId=" + flowID + "&chatId=c1&fileName=a.png", ""},
	}
}

// TestWidgetPreflightFromAnyOrigin: a page of any site may call the widget's routes: the
// preflight is 204 and allows the methods and the headers the widget and SDK send, and
// whatever else it asks for; the answers name the page's origin.
func TestWidgetPreflightFromAnyOrigin(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	flow := a.publicFlow()
	for _, call := range widgetCalls(flow) {
		for _, origin := range []string{"https://shop.example", "http://127.0.0.1:8111"} {
			resp := a.raw("OPTIONS", call.path, "", "Origin", origin, "Access-Control-Request-Method", call.method,
				"Access-Control-Request-Headers", "content-type,x-widget-build")
			require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s %s", call.method, call.path)
			require.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
			require.Contains(t, resp.Header.Get("Access-Control-Allow-Methods"), call.method)
			for _, h := range []string{"Authorization", "Content-Type", "x-widget-build"} {
				require.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), h)
			}
			require.Contains(t, resp.Header.Values("Vary"), "Origin")

			resp = a.raw(call.method, call.path, call.body, "Origin", origin)
			require.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"), "%s %s", call.method, call.path)
			require.NotEqual(t, http.StatusForbidden, resp.StatusCode, "%s %s", call.method, call.path)
		}
	}
	// An OPTIONS that is no preflight learns the path's methods; an unknown path is 404.
	resp := a.raw("OPTIONS", "/api/v1/feedback/"+flow, "")
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, "POST,PUT,GET,OPTIONS", resp.Header.Get("Allow"))
	resp = a.raw("OPTIONS", "/api/v1/nothing-here", "", "Origin", "https://shop.example", "Access-Control-Request-Method", "GET")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestAllowedOriginsRefuseOtherSites: a chatflow whose chatbotConfig.allowedOrigins lists sites
// refuses pages of other sites on every widget route with Flowise's 403 and its message (as
// text for a streaming prediction, which the widget shows), and takes its own sites, however
// the port is spelt, and requests that are not from a page.
func TestAllowedOriginsRefuseOtherSites(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	cfg := `{"allowedOrigins":["https://shop.example","http://localhost:8111"],"welcomeMessage":"hi"}`
	flow := &models.ChatFlow{ID: "0e5c3b1a-1111-4222-8333-444455556666", Name: "narrowed", FlowData: `{"nodes":[],"edges":[]}`, ChatbotConfig: &cfg}
	require.NoError(t, a.store.CreateChatFlow(context.Background(), flow))

	for _, call := range widgetCalls(flow.ID) {
		for _, origin := range []string{"https://evil.example", "https://shop.example:8443", "http://localhost:8112", "null"} {
			resp := a.raw(call.method, call.path, call.body, "Origin", origin)
			requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusForbidden, unauthorizedOrigin)
			require.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"), "the page may read why")
		}
		// Sites are compared by host and port, as Flowise compares them: not by scheme.
		for _, origin := range []string{"https://shop.example", "https://SHOP.example:443", "http://shop.example", "http://localhost:8111", ""} {
			resp := a.raw(call.method, call.path, call.body, "Origin", origin)
			require.NotEqual(t, http.StatusForbidden, resp.StatusCode, "%s %s from %q: %s", call.method, call.path, origin, resp.body)
		}
	}
	resp := a.raw("POST", "/api/v1/prediction/"+flow.ID, `{"question":"hi","streaming":true}`, "Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, unauthorizedOrigin, resp.body)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"))

	custom := `{"allowedOrigins":["https://shop.example"],"allowedOriginsError":"Only on shop.example, sorry"}`
	flow.ChatbotConfig = &custom
	require.NoError(t, a.store.UpdateChatFlow(context.Background(), flow))
	resp = a.raw("GET", "/api/v1/public-chatbotConfig/"+flow.ID, "", "Origin", "https://evil.example")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusForbidden, "Only on shop.example, sorry")

	// A list the Flowise editor emptied (first entry "") narrows nothing.
	emptied := `{"allowedOrigins":[""]}`
	flow.ChatbotConfig = &emptied
	require.NoError(t, a.store.UpdateChatFlow(context.Background(), flow))
	resp = a.raw("GET", "/api/v1/public-chatbotConfig/"+flow.ID, "", "Origin", "https://evil.example")
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.body)
	a.logs.requireNoErrors(t)
}

// TestCORSOriginsForManagementRoutes: the management API answers other origins only as
// CORS_ORIGINS says: none by default, the listed ones, or any with "*"; a refused preflight is
// 403, and a refused origin's answers never name it.
func TestCORSOriginsForManagementRoutes(t *testing.T) {
	for _, c := range []struct {
		name             string
		origins          []string
		allowed, refused []string
	}{
		{"unset", nil, nil, []string{"https://admin.example"}},
		{"listed", []string{"https://admin.example"}, []string{"https://admin.example", "https://ADMIN.example"}, []string{"https://other.example"}},
		{"any", []string{"*"}, []string{"https://admin.example", "https://other.example"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newTestAPIWith(t, "sqlite", Config{CORSOrigins: c.origins, CORSAllowCredentials: true})
			for _, origin := range c.allowed {
				resp := a.raw("OPTIONS", "/api/v1/chatflows", "", "Origin", origin, "Access-Control-Request-Method", "POST",
					"Access-Control-Request-Headers", "authorization,content-type")
				require.Equal(t, http.StatusNoContent, resp.StatusCode, origin)
				require.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
				require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
				resp = a.raw("GET", "/api/v1/chatflows", "", "Origin", origin, "Authorization", "Bearer "+a.key)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			for _, origin := range c.refused {
				resp := a.raw("OPTIONS", "/api/v1/chatflows", "", "Origin", origin, "Access-Control-Request-Method", "POST")
				requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusForbidden, "list it in CORS_ORIGINS")
				require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
				// The call itself is answered (a server may send an Origin too), without the
				// header a browser needs to let the page read it.
				resp = a.raw("GET", "/api/v1/chatflows", "", "Origin", origin, "Authorization", "Bearer "+a.key)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

// TestFrameAncestors: IFRAME_ORIGINS "*" (the default) sends no framing policy; a list is sent
// as Content-Security-Policy frame-ancestors on every answer.
func TestFrameAncestors(t *testing.T) {
	a := newTestAPIWith(t, "sqlite", Config{FrameAncestors: []string{"*"}})
	require.Empty(t, a.raw("GET", "/api/v1/ping", "").Header.Get("Content-Security-Policy"))

	a = newTestAPIWith(t, "sqlite", Config{FrameAncestors: []string{"'self'", "https://portal.example"}})
	for _, path := range []string{"/api/v1/ping", "/api/v1/chatflows", "/api/v1/nodes", "/nowhere"} {
		require.Equal(t, "frame-ancestors 'self' https://portal.example", a.raw("GET", path, "").Header.Get("Content-Security-Policy"), path)
	}
}

func TestOriginRefusal(t *testing.T) {
	cfg := `{"allowedOrigins":["https://shop.example","http://127.0.0.1:8111/chat","not a url",42]}`
	f := &models.ChatFlow{ChatbotConfig: &cfg}
	for origin, want := range map[string]string{
		"":                       "",
		"https://shop.example":   "",
		"https://shop.example/":  "",
		"http://127.0.0.1:8111":  "",
		"http://127.0.0.1:8112":  unauthorizedOrigin,
		"https://shop.example.x": unauthorizedOrigin,
		"null":                   unauthorizedOrigin,
		"not a url":              unauthorizedOrigin,
	} {
		require.Equal(t, want, originRefusal(f, origin), origin)
	}
	for _, none := range []string{"", "{}", `{"allowedOrigins":[]}`, "not json", `{"allowedOrigins":"https://x.example"}`} {
		require.Empty(t, originRefusal(&models.ChatFlow{ChatbotConfig: &none}, "https://any.example"), none)
	}
	require.Empty(t, originRefusal(&models.ChatFlow{}, "https://any.example"))
}

// TestGetUploadFileAsTheWidgetAsks: the widget shows a chat's uploaded image with an <img>
// whose src is get-upload-file with the chatflow, the chat and the file's name (spaces and
// all, as the browser escapes them); the answer is the file with its type, readable from the
// page's site, and a site the chatflow refuses gets 403.
func TestGetUploadFileAsTheWidgetAsks(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	flow := a.publicFlow()
	png := "\x89PNG\r\n\x1a\n fake image"
	key, err := storage.Key(flow, "chat-1", "my cat.png")
	require.NoError(t, err)
	require.NoError(t, a.files.Put(context.Background(), key, strings.NewReader(png), int64(len(png)), "image/png"))

	src := "/api/v1/get-upload-file?chatflowId=" + flow + "&chatId=chat-1&fileName=my%20cat.png"
	resp := a.raw("GET", src, "", "Origin", "https://shop.example")
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.body)
	require.Equal(t, png, resp.body)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Equal(t, "https://shop.example", resp.Header.Get("Access-Control-Allow-Origin"))
	resp = a.raw("GET", src, "") // an <img> sends no Origin
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp = a.raw("GET", "/api/v1/get-upload-file?chatflowId="+flow+"&chatId=chat-1&fileName=other.png", "")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusNotFound, "File other.png not found")
	resp = a.raw("GET", "/api/v1/get-upload-file?chatflowId="+flow+"&chatId=chat-1&fileName=..%2Fx.png", "")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusBadRequest, "is not allowed")

	narrowed := `{"allowedOrigins":["https://shop.example"]}`
	f, err := a.store.GetChatFlow(context.Background(), flow)
	require.NoError(t, err)
	f.ChatbotConfig = &narrowed
	require.NoError(t, a.store.UpdateChatFlow(context.Background(), f))
	resp = a.raw("GET", src, "", "Origin", "https://evil.example")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusForbidden, unauthorizedOrigin)
}
