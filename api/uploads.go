package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// uploadBody is one entry of a prediction's uploads, as Flowise clients send it.
type uploadBody struct {
	Type string `json:"type"` // "file", "file:rag", "audio", "file:full" or "url"
	Name string `json:"name"`
	Data string `json:"data"` // a base64 data URI; text for file:full; an address for url
	Mime string `json:"mime"`
}

// multipartMemory is how much of a multipart body is held in memory; the rest spills to
// temporary files, so a 50 MB upload does not cost 50 MB of heap per request.
const multipartMemory = 8 << 20

// readPrediction decodes a prediction request: JSON, or multipart with non-file fields as
// strings and the files under "files". The caller removes a returned form's temporary files.
// On failure it has answered.
func readPrediction(c *gin.Context) (predictionBody, *multipart.Form, bool) {
	var body predictionBody
	if !isMultipart(c) {
		return body, nil, bindJSON(c, &body)
	}
	form, ok := multipartForm(c)
	if !ok {
		return body, nil, false
	}
	field := func(name string) string {
		if v := form.Value[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	body.Question, body.ChatID, body.LeadEmail = field("question"), field("chatId"), field("leadEmail")
	body.Streaming = flexBool(field("streaming") == "true")
	structured := map[string]json.Unmarshaler{"overrideConfig": &body.OverrideConfig, "history": &body.History, "uploads": &body.Uploads, "form": &body.Form}
	for name, dst := range structured {
		if v := field(name); v != "" {
			if err := dst.UnmarshalJSON([]byte(v)); err != nil {
				fail(c, http.StatusBadRequest, "invalid JSON in form field %s: %v", name, err)
				return body, nil, false
			}
		}
	}
	// As in Flowise, the other fields of a multipart prediction are overrideConfig entries
	// (sessionId, vars, node inputs); vars arrives as JSON text.
	overrides := map[string]any{}
	for name := range form.Value {
		if _, known := structured[name]; known || multipartFields[name] {
			continue
		}
		var v any = field(name)
		if name == "vars" {
			// Bounded before it is decoded, as overrideConfig is.
			if len(field(name)) > maxObjectBytes {
				fail(c, http.StatusBadRequest, "form field vars is longer than %d bytes", maxObjectBytes)
				return body, nil, false
			}
			var vars map[string]any
			if err := json.Unmarshal([]byte(field(name)), &vars); err != nil {
				fail(c, http.StatusBadRequest, "invalid JSON in form field vars: %v", err)
				return body, nil, false
			}
			v = vars
		}
		overrides[name] = v
	}
	if len(overrides) > 0 {
		if err := mergeOverrides(&body.OverrideConfig, overrides); err != nil {
			fail(c, http.StatusBadRequest, "%v", err)
			return body, nil, false
		}
	}
	return body, form, true
}

// multipartFields are the plain fields of a multipart prediction that are not overrides.
var multipartFields = map[string]bool{"question": true, "chatId": true, "leadEmail": true, "streaming": true}

func isMultipart(c *gin.Context) bool {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	return mt == "multipart/form-data"
}

// multipartForm parses the body; on failure it has answered 400 or 413. Parts that spilled to
// temporary files stay until the caller's form.RemoveAll.
func multipartForm(c *gin.Context) (*multipart.Form, bool) {
	if err := c.Request.ParseMultipartForm(multipartMemory); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(c, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit)
			return nil, false
		}
		fail(c, http.StatusBadRequest, "invalid multipart body: %v", err)
		return nil, false
	}
	return c.Request.MultipartForm, true
}

// uploadError is a bad upload: the client's fault, answered 400.
type uploadError struct{ msg string }

func (e *uploadError) Error() string { return e.msg }

// chatFiles keeps the files of conversations in storage, under <chatflowId>/<chatId>/<name>.
type chatFiles struct {
	store storage.Store
}

// storeUploads puts the turn's files in storage and returns what the run carries: references
// for stored files, the framed text of file:full uploads, and the fileUploads record of the
// user message. Every upload is checked against the chatflow's policy before any is stored;
// nothing is started when it fails.
func (fs chatFiles) storeUploads(ctx context.Context, flow *models.ChatFlow, run *node.Run, uploads []uploadBody, files []*multipart.FileHeader) (string, error) {
	if len(uploads) == 0 && len(files) == 0 {
		// Most turns carry no file: reading the policy parses the whole flow, about 1% of a
		// prediction's CPU, for nothing.
		return "", nil
	}
	policy := policyOf(flow)
	decoded := make([][]byte, len(uploads))
	for i, u := range uploads {
		size := 0
		if u.Type == "file" || u.Type == "file:rag" || u.Type == "audio" {
			mimeType, data, err := decodeDataURI(u.Data)
			if err != nil {
				return "", &uploadError{fmt.Sprintf("upload %q: %v", u.Name, err)}
			}
			uploads[i].Mime = cmp.Or(u.Mime, mimeType)
			decoded[i], size = data, len(data)
		}
		if err := policy.check(u.Type, u.Name, uploads[i].Mime, size); err != nil {
			return "", err
		}
	}
	for _, fh := range files {
		if err := policy.check("form", fh.Filename, formFileMime(fh), int(fh.Size)); err != nil {
			return "", err
		}
	}
	var record []node.Upload
	var docs strings.Builder
	for i, u := range uploads {
		switch u.Type {
		case "file", "file:rag", "audio":
			data := decoded[i]
			if err := fs.put(ctx, run, u.Name, bytes.NewReader(data), int64(len(data)), u.Mime); err != nil {
				return "", err
			}
			record = append(record, node.Upload{Type: node.UploadStored, Name: u.Name, Mime: u.Mime})
		case "file:full":
			// Flowise's chat sends the text the attachments route extracted; it goes before
			// the question and is not stored again.
			docs.WriteString(node.FileDoc(u.Name, u.Data))
			record = append(record, node.Upload{Type: node.UploadStoredFull, Name: u.Name, Mime: u.Mime})
		case "url":
			record = append(record, node.Upload{Type: node.UploadURL, Name: u.Name, Mime: cmp.Or(u.Mime, "image/png"), Data: u.Data})
		default:
			return "", &uploadError{fmt.Sprintf("upload %q has unknown type %q", u.Name, u.Type)}
		}
	}
	for _, fh := range files {
		if err := fs.putFormFile(ctx, run, fh); err != nil {
			return "", err
		}
		record = append(record, node.Upload{Type: node.UploadStored, Name: fh.Filename, Mime: formFileMime(fh)})
	}
	if len(record) == 0 {
		return "", nil
	}
	run.Uploads, run.FilesContent = record, docs.String()
	raw, err := json.Marshal(record)
	return string(raw), err
}

// putFormFile stores a file of a multipart request in the run's conversation.
func (fs chatFiles) putFormFile(ctx context.Context, run *node.Run, fh *multipart.FileHeader) error {
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open uploaded file %q: %w", fh.Filename, err)
	}
	defer f.Close()
	return fs.put(ctx, run, fh.Filename, f, fh.Size, formFileMime(fh))
}

// put stores one file in the run's conversation; a name that cannot be a key is an uploadError.
func (fs chatFiles) put(ctx context.Context, run *node.Run, name string, r io.Reader, size int64, mimeType string) error {
	key, err := storage.Key(run.ChatflowID, run.ChatID, name)
	if err != nil {
		return &uploadError{fmt.Sprintf("file %q is not allowed (names must be plain, without path separators or '..'): %v", name, err)}
	}
	if err := fs.store.Put(ctx, key, r, size, mimeType); err != nil {
		return fmt.Errorf("store %q: %w", name, err)
	}
	return nil
}

func formFileMime(fh *multipart.FileHeader) string {
	if mt := fh.Header.Get("Content-Type"); mt != "" {
		return mt
	}
	return "application/octet-stream"
}

// decodeDataURI reads "data:<mime>;base64,<data>".
func decodeDataURI(uri string) (string, []byte, error) {
	head, data, ok := strings.Cut(uri, ",")
	if !ok || !strings.HasPrefix(head, "data:") || !strings.HasSuffix(head, ";base64") {
		return "", nil, errors.New(`data must be a base64 data URI ("data:<mime>;base64,<data>")`)
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return "", nil, fmt.Errorf("data is not valid base64: %w", err)
	}
	return strings.TrimSuffix(strings.TrimPrefix(head, "data:"), ";base64"), raw, nil
}

// failUpload answers a storage error: 400 for a bad upload, 503 when storage is away.
func failUpload(c *gin.Context, log *slog.Logger, err error) {
	var bad *uploadError
	if errors.As(err, &bad) {
		fail(c, http.StatusBadRequest, "%s", bad.msg)
		return
	}
	log.Error("file storage failed", "path", c.FullPath(), "error", err)
	fail(c, http.StatusServiceUnavailable, "File storage is unavailable; try again shortly")
}

// deleteUnder removes the stored files under prefix. An id that cannot name a prefix (its
// error, prefixErr) never had files stored under it, so there is nothing to do.
func (fs chatFiles) deleteUnder(ctx context.Context, prefix string, prefixErr error) error {
	if prefixErr != nil {
		return nil
	}
	if err := fs.store.DeletePrefix(ctx, prefix); err != nil {
		return fmt.Errorf("delete stored files under %s: %w", prefix, err)
	}
	return nil
}
