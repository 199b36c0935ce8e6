package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/knowledge/extract"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/workflows/node"
)

// attachments serves the files of a chat: attaching them, and reading them back. Both are
// open routes, guarded by the chatflow's bound key; attaching counts against its rate limit.
type attachments struct {
	auth   *auth
	limits *rateLimits
	files  chatFiles
	log    *slog.Logger
}

func (h *attachments) routes(open, _ *gin.RouterGroup) {
	open.POST("/attachments/:id/:chatId", h.create)
	open.GET("/get-upload-file", h.get)
}

// attachment is one entry of the attachments route's answer.
type attachment struct {
	Name     string `json:"name"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
	Content  string `json:"content"`
}

// create stores files for a chat and returns their text, for the chat to send back as
// file:full uploads.
func (h *attachments) create(c *gin.Context) {
	f, ok := h.auth.widgetFlow(c, c.Param("id"))
	if !ok {
		return
	}
	if rule, ok := h.limits.rule(c, f); !ok || !h.limits.take(c, f.ID, rule, "") {
		return
	}
	if !isMultipart(c) {
		fail(c, http.StatusBadRequest, "send the files as multipart/form-data in the field \"files\"")
		return
	}
	form, ok := multipartForm(c)
	if !ok {
		return
	}
	defer form.RemoveAll()
	files := form.File["files"]
	if len(files) == 0 {
		fail(c, http.StatusBadRequest, "no files were sent in the field \"files\"")
		return
	}
	policy := policyOf(f)
	for _, fh := range files {
		if err := policy.check("form", fh.Filename, formFileMime(fh), int(fh.Size)); err != nil {
			failUpload(c, h.log, err)
			return
		}
	}
	// Every file is read before any is stored, so one that cannot be read leaves nothing behind.
	// However many files come, reading them costs at most extract.TurnBudget.
	ctx, cancel := context.WithTimeoutCause(c.Request.Context(), extract.TurnBudget, extract.ErrBudget)
	defer cancel()
	out := make([]attachment, 0, len(files))
	for _, fh := range files {
		a, err := extractAttachment(ctx, fh)
		if cause := context.Cause(ctx); err != nil && errors.Is(cause, extract.ErrBudget) {
			err = cause
		}
		if err != nil {
			failExtract(c, h.log, err)
			return
		}
		out = append(out, a)
	}
	run := &node.Run{ChatflowID: f.ID, ChatID: c.Param("chatId")}
	for _, fh := range files {
		if err := h.files.putFormFile(c, run, fh); err != nil {
			failUpload(c, h.log, err)
			return
		}
	}
	c.JSON(http.StatusOK, out)
}

// failExtract answers an error reading a file's text. A file at fault is the client's problem,
// and the message (naming the file and the reason or limit) is for them: 422 when its content
// cannot be read, 413 when it is too large, 415 when it has no text. Anything else is ours.
func failExtract(c *gin.Context, log *slog.Logger, err error) {
	switch {
	case errors.Is(err, extract.ErrUnreadable):
		fail(c, http.StatusUnprocessableEntity, "%v", err)
	case errors.Is(err, extract.ErrTooLarge):
		fail(c, http.StatusRequestEntityTooLarge, "%v", err)
	case errors.Is(err, extract.ErrUnsupported):
		fail(c, http.StatusUnsupportedMediaType, "%v", err)
	case c.Request.Context().Err() != nil:
		fail(c, http.StatusServiceUnavailable, "The request ended before its files were read")
	default:
		log.Error("reading an attachment failed", "path", c.FullPath(), "error", err)
		fail(c, http.StatusInternalServerError, "attachments: internal error")
	}
}

func extractAttachment(ctx context.Context, fh *multipart.FileHeader) (attachment, error) {
	f, err := fh.Open()
	if err != nil {
		return attachment{}, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	mimeType := extract.MimeType(fh.Filename, fh.Header.Get("Content-Type"), head[:n])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return attachment{}, fmt.Errorf("rewind: %w", err)
	}
	text, err := extract.Text(ctx, fh.Filename, mimeType, f, fh.Size)
	if err != nil {
		return attachment{}, err
	}
	return attachment{Name: fh.Filename, MimeType: mimeType, Size: fh.Size, Content: text}, nil
}

// get streams a stored upload back with its content type.
func (h *attachments) get(c *gin.Context) {
	id, chatID, name := c.Query("chatflowId"), c.Query("chatId"), c.Query("fileName")
	if id == "" || chatID == "" || name == "" {
		fail(c, http.StatusBadRequest, "chatflowId, chatId and fileName are required")
		return
	}
	if _, ok := h.auth.widgetFlow(c, id); !ok {
		return
	}
	key, err := storage.Key(id, chatID, name)
	if err != nil {
		fail(c, http.StatusBadRequest, "file name %q is not allowed", name)
		return
	}
	r, obj, err := h.files.store.Get(c, key)
	if errors.Is(err, storage.ErrNotFound) {
		fail(c, http.StatusNotFound, "File %s not found", name)
		return
	}
	if err != nil {
		failUpload(c, h.log, err)
		return
	}
	defer r.Close()
	// Served as a download, never rendered: the type is what the uploader declared.
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Header("X-Content-Type-Options", "nosniff")
	c.DataFromReader(http.StatusOK, obj.Size, cmp.Or(obj.ContentType, "application/octet-stream"), r, nil)
}
