package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/hostile"
)

// TestAttachmentErrorsAreTheClients: a file that cannot be read is the client's problem, answered
// 4xx in Flowise's shape with a message naming the file; a hostile PDF used to hang the request.
func TestAttachmentErrorsAreTheClients(t *testing.T) {
	for _, c := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"loop.pdf", hostile.SelfReferencingPDF, http.StatusUnprocessableEntity,
			"file loop.pdf could not be read: corrupt PDF: the page tree reaches object 2 0 R twice"},
		{"deep.json", hostile.DeepJSON, http.StatusUnprocessableEntity,
			"file deep.json could not be read: JSON nests deeper than 256 levels (byte 256)"},
		{"photo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", http.StatusUnsupportedMediaType,
			"extract: unsupported file type: image/png (photo.png)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := extractAttachment(context.Background(), formFileHeader(t, c.name, c.body))
			require.Error(t, err)
			rec := httptest.NewRecorder()
			ctx, _ := gin.CreateTestContext(rec)
			ctx.Request = httptest.NewRequest("POST", "/api/v1/attachments/f/c", nil)
			failExtract(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), err)
			var body errorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			require.Equal(t, errorBody{StatusCode: c.status, Message: c.message}, body)
		})
	}
}

// formFileHeader is the header of a file sent as multipart field "files".
func formFileHeader(t *testing.T, name, body string) *multipart.FileHeader {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("files", name)
	require.NoError(t, err)
	_, err = part.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	form, err := multipart.NewReader(&buf, w.Boundary()).ReadForm(1 << 20)
	require.NoError(t, err)
	t.Cleanup(func() { _ = form.RemoveAll() })
	return form.File["files"][0]
}
