package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

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
	requireFlowiseError(t, status, body, http.StatusConflict, "Flowgate already has variable 0b1c7c43-7a5e-4f54-9d55-3f3a1c5d2b11 of that name")

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
