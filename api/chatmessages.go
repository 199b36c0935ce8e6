package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
)

// messages serves a chatflow's chat messages.
type messages struct {
	store *models.Store
	// files are the conversations' files, deleted with their messages.
	files chatFiles
	log   *slog.Logger
}

func (h *messages) routes(_, v1 *gin.RouterGroup) {
	v1.GET("/chatmessage/:id", h.list)
	v1.DELETE("/chatmessage/:id", h.delete)
}

// messageFilter reads Flowise's chat message query parameters.
func messageFilter(c *gin.Context) (models.MessageFilter, string, bool) {
	f := models.MessageFilter{
		ChatflowID: c.Param("id"),
		ChatID:     c.Query("chatId"),
		SessionID:  c.Query("sessionId"),
		Descending: strings.EqualFold(c.Query("order"), "DESC"),
	}
	if ct := c.Query("chatType"); ct != "" {
		// Either one type or a JSON array of them.
		if strings.HasPrefix(ct, "[") {
			if err := json.Unmarshal([]byte(ct), &f.ChatTypes); err != nil {
				return f, "chatType must be a type or a JSON array of types", false
			}
		} else {
			f.ChatTypes = []string{ct}
		}
	}
	var err error
	if f.Start, f.End, err = dateRange(c); err != nil {
		return f, err.Error(), false
	}
	if f.Page, f.Limit, err = pageParams(c); err != nil {
		return f, err.Error(), false
	}
	return f, "", true
}

// dateRange reads the startDate and endDate query parameters (nil when absent).
func dateRange(c *gin.Context) (start, end *time.Time, err error) {
	for name, dst := range map[string]**time.Time{"startDate": &start, "endDate": &end} {
		if v := c.Query(name); v != "" {
			t, perr := parseDate(v, name == "endDate")
			if perr != nil {
				return nil, nil, errors.New(name + " must be an ISO 8601 date")
			}
			*dst = &t
		}
	}
	return start, end, nil
}

// parseDate reads an ISO 8601 timestamp, or a bare date meaning the whole day (an end date
// then covers that day up to its last instant, as Flowise does). Times are compared in UTC.
func parseDate(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, err
	}
	if end {
		t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return t, nil
}

func (h *messages) list(c *gin.Context) {
	f, msg, ok := messageFilter(c)
	if !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	msgs, err := h.store.ListMessages(c, f)
	if err != nil {
		failErr(c, h.log, "Chat messages", err)
		return
	}
	c.JSON(http.StatusOK, msgs)
}

func (h *messages) delete(c *gin.Context) {
	f, msg, ok := messageFilter(c)
	if !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	if _, err := h.store.GetChatFlow(c, f.ChatflowID); err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	// Files go first: when storage fails the messages stay, and the same call can be repeated.
	chats, err := h.store.MessageChatIDs(c, f)
	if err != nil {
		failErr(c, h.log, "Chat messages", err)
		return
	}
	for _, chatID := range chats {
		prefix, perr := storage.ChatPrefix(f.ChatflowID, chatID)
		if err := h.files.deleteUnder(c, prefix, perr); err != nil {
			failUpload(c, h.log, err)
			return
		}
	}
	n, err := h.store.DeleteMessages(c, f)
	if err != nil {
		failErr(c, h.log, "Chat messages", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": n})
}
