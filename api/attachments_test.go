package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/knowledge/extract"
	"github.com/flowgate/flowgate/internal/testkit/hostile"
	"github.com/flowgate/flowgate/models"
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

// TestAttachmentsReadWithinOneBudget: however many slow files a request brings, reading them
// stops at the request's budget (extract.TurnBudget), and the answer says so.
func TestAttachmentsReadWithinOneBudget(t *testing.T) {
	defer func(b time.Duration) { extract.TurnBudget = b }(extract.TurnBudget)
	extract.TurnBudget = 500 * time.Millisecond
	slow, err := os.ReadFile("../internal/knowledge/extract/testdata/hostile/pdf-xref-prev-loop.pdf") // spins until killed
	require.NoError(t, err)
	a := newTestAPI(t, "sqlite")
	cfg := `{"fullFileUpload":{"status":true,"allowedUploadFileTypes":"application/pdf"}}`
	f := &models.ChatFlow{ID: "0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a", Name: "pdfs", FlowData: `{"nodes":[],"edges":[]}`, ChatbotConfig: &cfg}
	require.NoError(t, a.store.CreateChatFlow(context.Background(), f))
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := range 5 {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename="slow-%d.pdf"`, i))
		h.Set("Content-Type", "application/pdf")
		part, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = part.Write(slow)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	start := time.Now()
	status, answer := a.send("POST", "/api/v1/attachments/"+f.ID+"/c1", w.FormDataContentType(), &buf)
	requireFlowiseError(t, status, answer, http.StatusUnprocessableEntity, "could not all be read in the time one request may take")
	require.Less(t, time.Since(start), 10*time.Second, "five slow files cost one budget, not five deadlines")
}
