package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// samplePath is a route's path with every parameter given a value no row has.
func samplePath(path string) string {
	return apiPrefix + regexp.MustCompile(`:[A-Za-z]+`).ReplaceAllString(path, "6f1e2d3c-0000-4000-8000-00000000abcd")
}

// TestRouteTableMatchesTheServer: the server routes exactly the table's rows below /api/v1
// (the offered ones to their resources, the others to a 501) and Flowgate's extensions, so the
// tables, and the README made from the first, tell the truth.
func TestRouteTableMatchesTheServer(t *testing.T) {
	engine := New(Config{}, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler().(*gin.Engine)
	var routed, listed []string
	for _, r := range engine.Routes() {
		if r.Method != http.MethodOptions && r.Path != "/readyz" {
			routed = append(routed, r.Method+" "+r.Path)
		}
	}
	for _, r := range flowiseRoutes {
		listed = append(listed, r.method+" "+apiPrefix+r.path)
	}
	for _, r := range extensionRoutes {
		require.Nil(t, newRouteCatalogue(flowiseRoutes).find(r.method, r.path), "%s %s is Flowise's, not an extension", r.method, r.path)
		listed = append(listed, r.method+" "+r.path)
	}
	slices.Sort(routed)
	slices.Sort(listed)
	require.Equal(t, listed, routed)
	require.Len(t, slices.Compact(listed), len(flowiseRoutes)+len(extensionRoutes), "a route is listed twice")
}

// TestExtensionRoutesAnswer: each extension answers a request of nothing but unknown ids and
// an empty body as its own (OpenAI's routes in OpenAI's error shape), and their preflight lets
// the pages of CORS_ORIGINS call them.
func TestExtensionRoutesAnswer(t *testing.T) {
	a := newTestAPIWith(t, "sqlite", Config{CORSOrigins: []string{"https://app.example"}})
	want := map[string]int{
		"GET /api/v1/runs/:runId":        http.StatusNotFound,
		"GET /api/v1/runs/:runId/stream": http.StatusNotFound,
		"GET /v1/models":                 http.StatusOK,
		"POST /v1/chat/completions":      http.StatusBadRequest,
	}
	for _, r := range extensionRoutes {
		path := strings.ReplaceAll(r.path, ":runId", "6f1e2d3c")
		status, body := a.send(r.method, path, "application/json", strings.NewReader(""))
		require.Equal(t, want[r.method+" "+r.path], status, "%s %s: %s", r.method, r.path, body)
		if strings.HasPrefix(r.path, "/v1/") && status >= 400 {
			require.Contains(t, body, `"error":{"message":`, "OpenAI's error shape")
		}
		for origin, want := range map[string]int{"https://app.example": http.StatusNoContent, "https://elsewhere.example": http.StatusForbidden} {
			resp := a.request(http.MethodOptions, path, "", nil, "Origin", origin, "Access-Control-Request-Method", r.method)
			require.Equal(t, want, resp.StatusCode, "%s %s from %s: %s", r.method, r.path, origin, resp.body)
		}
	}
	a.logs.requireNoErrors(t)
}

// TestEveryFlowiseRouteAnswers: each route of the table answers, without a key, as the table
// says: 501 in Flowise's error shape naming the route for those Flowgate leaves out, 401 for the
// management routes, and otherwise an answer of the route's own; with a key, no route offered
// answers 500 to a request made of nothing but unknown ids and an empty body.
func TestEveryFlowiseRouteAnswers(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	for _, r := range flowiseRoutes {
		status, body := a.send(r.method, samplePath(r.path), "application/json", strings.NewReader(""))
		switch {
		case r.missing != "":
			want := "Flowgate does not offer " + r.method + " " + readablePath(r.path) + ": " + r.missing
			requireFlowiseError(t, status, body, http.StatusNotImplemented, want)
			require.JSONEq(t, `{"statusCode":501,"success":false,"message":`+quote(want)+`,"stack":{}}`, body)
		case r.access == byKey:
			requireFlowiseError(t, status, body, http.StatusUnauthorized, "Unauthorized")
		case strings.Contains(r.path, "apikey/") || strings.HasPrefix(r.path, "/verify/"):
			requireFlowiseError(t, status, body, http.StatusUnauthorized, "Unauthorized") // the key in the path
		default:
			require.NotContains(t, []int{http.StatusUnauthorized, http.StatusNotImplemented, http.StatusInternalServerError}, status,
				"%s %s: %s", r.method, r.path, body)
		}
		if r.missing == "" {
			status, body = a.send(r.method, samplePath(r.path), "application/json", strings.NewReader(""), "Authorization", "Bearer "+a.key)
			require.Less(t, status, 500, "%s %s: %s", r.method, r.path, body)
		}
	}
	a.logs.requireNoErrors(t)
}

func quote(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}

// TestREADMEListsEveryFlowiseRoute: the README's route table is the table's.
func TestREADMEListsEveryFlowiseRoute(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	table := newRouteCatalogue(flowiseRoutes).markdown()
	require.True(t, strings.Contains(string(readme), table), "README.md must hold the route table as routes.go makes it:\n%s", table)
}
