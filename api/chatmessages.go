package api

import (
	"github.com/flowgate/flowgate/internal/storage"

	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/models"
)

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
	for name, dst := range map[string]**time.Time{"startDate": &f.Start, "endDate": &f.End} {
		if v := c.Query(name); v != "" {
			t, err := parseDate(v, name == "endDate")
			if err != nil {
				return f, name + " must be an ISO 8601 date", false
			}
			*dst = &t
		}
	}
	var err error
	if f.Page, f.Limit, err = pageParams(c); err != nil {
		return f, err.Error(), false
	}
	return f, "", true
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

func (s *Server) listMessages(c *gin.Context) {
	f, msg, ok := messageFilter(c)
	if !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	msgs, err := s.store.ListMessages(c, f)
	if err != nil {
		s.failErr(c, "Chat messages", err)
		return
	}
	c.JSON(http.StatusOK, msgs)
}

func (s *Server) deleteMessages(c *gin.Context) {
	f, msg, ok := messageFilter(c)
	if !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	if _, err := s.store.GetChatFlow(c, f.ChatflowID); err != nil {
		s.failErr(c, "Chatflow", err)
		return
	}
	// Files go first: when storage fails the messages stay, and the same call can be repeated.
	chats, err := s.store.MessageChatIDs(c, f)
	if err != nil {
		s.failErr(c, "Chat messages", err)
		return
	}
	for _, chatID := range chats {
		prefix, perr := storage.ChatPrefix(f.ChatflowID, chatID)
		if err := s.deleteFiles(c, prefix, perr); err != nil {
			s.failUpload(c, err)
			return
		}
	}
	n, err := s.store.DeleteMessages(c, f)
	if err != nil {
		s.failErr(c, "Chat messages", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": n})
}
