package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// onlyReader hides a body's length, so it travels chunked and only the reader's bound stops it.
type onlyReader struct{ io.Reader }

func TestExportImportRoutes(t *testing.T) {
	a := newTestAPIWith(t, "sqlite", Config{BodyLimit: 600})
	auth := []string{"Authorization", "Bearer " + a.key}
	file := `{"FileDefaultName":"ExportData.json","Variable":[{"id":"0b1c7c43-7a5e-4f54-9d55-3f3a1c5d2b11","name":"COMPANY","value":"Acme",` +
		`"type":"static","createdDate":"2026-12-03T18:24:56.000Z","updatedDate":"2026-12-03T18:24:56.000Z","workspaceId":"w"}]}`

	status, body := a.send("POST", "/api/v1/export-import/import", "application/json", strings.NewReader(file))
	requireFlowiseError(t, status, body, http.StatusUnauthorized, "Unauthorized")

	status, body = a.send("POST", "/api/v1/export-import/import", "application/json", strings.NewReader(file), auth...)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"message":"success"`)
	require.Contains(t, body, `{"kind":"variables","new":1,"updated":0,"unchanged":0}`)
	status, body = a.send("POST", "/api/v1/export-import/import", "application/json", strings.NewReader(file), auth...)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `{"kind":"variables","new":0,"updated":0,"unchanged":1}`)

	// The same name under another id: Flowgate's variable names are unique.
	clash := strings.Replace(file, "0b1c7c43", "1c2d3e4f", 1)
	status, body = a.send("POST", "/api/v1/export-import/import", "application/json", strings.NewReader(clash), auth...)
	requireFlowiseError(t, status, body, http.StatusConflict, "Flowgate already has variable 0b1c7c43-7a5e-4f54-9d55-3f3a1c5d2b11 with that name")

	big := `{"Tool":[],"x":"` + strings.Repeat("a", 700) + `"}`
	status, body = a.send("POST", "/api/v1/export-import/import", "application/json", strings.NewReader(big), auth...)
	requireFlowiseError(t, status, body, http.StatusRequestEntityTooLarge, "larger than the limit of 600 bytes")
	status, body = a.send("POST", "/api/v1/export-import/import", "application/json", onlyReader{strings.NewReader(big)}, auth...)
	requireFlowiseError(t, status, body, http.StatusRequestEntityTooLarge, "larger than the limit of 600 bytes")

	status, body = a.send("POST", "/api/v1/export-import/export", "application/json", strings.NewReader(`{"variable":true}`), auth...)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"Variable":[{"id":"0b1c7c43-7a5e-4f54-9d55-3f3a1c5d2b11","name":"COMPANY","value":"Acme","type":"static"`)
	require.Contains(t, body, `"ChatFlow":[]`)
	a.logs.requireNoErrors(t)
}

// TestExportImportRouteGuards: a file with an id twice is a 400 naming it; history already
// here is not rewritten by an upload (and the notes say so); an oversized export request is a
// 413; a second import while one runs is a 429, all in Flowise's error shape.
func TestExportImportRouteGuards(t *testing.T) {
	a := newTestAPIWith(t, "sqlite", Config{BodyLimit: 1 << 20})
	auth := []string{"Authorization", "Bearer " + a.key}
	flow := `{"id":"f1","name":"n","flowData":"{}","type":"CHATFLOW","createdDate":"2026-01-01T00:00:00.000Z","updatedDate":"2026-01-01T00:00:00.000Z"}`
	status, body := a.send("POST", "/api/v1/export-import/import", "application/json",
		strings.NewReader(`{"ChatFlow":[`+flow+`],"AgentFlowV2":[`+strings.Replace(flow, "CHATFLOW", "AGENTFLOW", 1)+`]}`), auth...)
	requireFlowiseError(t, status, body, http.StatusBadRequest, "chat_flow row f1: column id: the same id is given twice")

	msg := func(content string) string {
		return `{"ChatFlow":[` + flow + `],"ChatMessage":[{"id":"m1","role":"userMessage","chatflowid":"f1","content":"` + content +
			`","chatId":"c1","chatType":"EXTERNAL","createdDate":"2026-01-01T00:00:00.000Z"}]}`
	}
	status, body = a.send("POST", "/api/v1/export-import/import", "application/json", strings.NewReader(msg("hello")), auth...)
	require.Equal(t, http.StatusOK, status, body)
	status, body = a.send("POST", "/api/v1/export-import/import", "application/json", strings.NewReader(msg("rewritten")), auth...)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `{"kind":"chat messages","new":0,"updated":0,"unchanged":1}`)
	require.Contains(t, body, "1 chat messages differ from what Flowgate has under the same id and were left as they are")
	status, body = a.send("POST", "/api/v1/export-import/export", "application/json", strings.NewReader(`{"chat_message":true}`), auth...)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"content":"hello"`)
	require.NotContains(t, body, "rewritten")

	status, body = a.send("POST", "/api/v1/export-import/export", "application/json",
		strings.NewReader(`{"chatflow":true,"x":"`+strings.Repeat("a", maxExportRequest)+`"}`), auth...)
	requireFlowiseError(t, status, body, http.StatusRequestEntityTooLarge, "larger than the limit of 4096 bytes")

	// One import at a time: hold the handler's lock as a running import would.
	h := &exportImport{store: a.store, limit: 1 << 20, log: slog.New(slog.DiscardHandler)}
	h.importing.Lock()
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest("POST", "/api/v1/export-import/import", strings.NewReader(msg("x")))
	h.importFile(c)
	requireFlowiseError(t, rec.Code, rec.Body.String(), http.StatusTooManyRequests, "another import is running")
	h.importing.Unlock()
	a.logs.requireNoErrors(t)
}
