package api

import (
	"cmp"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/models"
)

// feedback serves the ratings chats give answers: the widget's thumbs create and update them
// (open routes, like the chat itself), and a management key lists them.
type feedback struct {
	store *models.Store
	auth  *auth
	log   *slog.Logger
}

func (h *feedback) routes(open, v1 *gin.RouterGroup) {
	open.POST("/feedback", h.create)
	open.POST("/feedback/:id", h.create) // the widget names the chatflow in the path
	open.PUT("/feedback/:id", h.update)
	v1.GET("/feedback/:id", h.list)
}

// feedbackBody is what the widget sends. Empty ids count as absent, as in Flowise.
type feedbackBody struct {
	ChatflowID string  `json:"chatflowid"`
	ChatID     string  `json:"chatId"`
	MessageID  string  `json:"messageId"`
	Rating     string  `json:"rating"`
	Content    *string `json:"content"`
}

var ratings = []string{models.RatingThumbsUp, models.RatingThumbsDown}

// readFeedback decodes and checks a body; rating is required on creation. On failure it has
// answered 400.
func readFeedback(c *gin.Context, creating bool) (feedbackBody, bool) {
	var b feedbackBody
	if !bindJSON(c, &b) {
		return b, false
	}
	msg := ""
	switch field := unstorableField(b); {
	case field != "":
		msg = field + " must not contain NUL characters or invalid UTF-8"
	case creating && b.MessageID == "":
		msg = "Message ID is required"
	case (creating || b.Rating != "") && !slices.Contains(ratings, b.Rating):
		msg = "rating must be " + strings.Join(ratings, " or ")
	}
	if msg != "" {
		fail(c, http.StatusBadRequest, "%s", msg)
		return b, false
	}
	return b, true
}

// create rates a message: the message must exist and, when the request names a chatflow (in
// the path or the body) or a chat, belong to them. A message is rated once (409 after); the
// widget changes a rating through update.
func (h *feedback) create(c *gin.Context) {
	b, ok := readFeedback(c, true)
	if !ok {
		return
	}
	flowID := c.Param("id")
	if flowID != "" && b.ChatflowID != "" && flowID != b.ChatflowID {
		fail(c, http.StatusBadRequest, "Inconsistent chatflow ID: the path names chatflow %s, the body %s", flowID, b.ChatflowID)
		return
	}
	flowID = cmp.Or(flowID, b.ChatflowID)
	// A named chatflow is checked before the message is looked up, so a site the chatflow
	// refuses learns nothing of its messages.
	if flowID != "" {
		if _, ok := h.auth.widgetFlow(c, flowID); !ok {
			return
		}
	}
	m, err := h.store.GetMessage(c, b.MessageID)
	if err != nil {
		failErrOf(c, h.log, "Message with ID", b.MessageID, err)
		return
	}
	switch {
	case flowID == "":
		if _, ok := h.auth.widgetFlow(c, m.ChatflowID); !ok {
			return
		}
	case m.ChatflowID != flowID:
		fail(c, http.StatusBadRequest, "Inconsistent chatflow ID: message with ID %s does not belong to chatflow with ID %s", m.ID, flowID)
		return
	}
	if b.ChatID != "" && b.ChatID != m.ChatID {
		fail(c, http.StatusBadRequest, "Inconsistent chat ID: message with ID %s does not belong to chat with ID %s", m.ID, b.ChatID)
		return
	}
	f := &models.ChatMessageFeedback{ID: uuid.NewString(), ChatflowID: m.ChatflowID, ChatID: m.ChatID, MessageID: m.ID,
		Rating: b.Rating, Content: b.Content}
	if err := h.store.CreateFeedback(c, f); err != nil {
		failErrOf(c, h.log, "Feedback for message", m.ID, err)
		return
	}
	c.JSON(http.StatusOK, f)
}

// update changes a feedback's rating or content (what the widget sends after a thumb: the
// reason). The feedback stays on its message: ids in the body must be its own.
func (h *feedback) update(c *gin.Context) {
	f, err := h.store.GetFeedback(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Feedback with ID", err)
		return
	}
	if _, ok := h.auth.widgetFlow(c, f.ChatflowID); !ok {
		return
	}
	b, ok := readFeedback(c, false)
	if !ok {
		return
	}
	for _, id := range []struct{ name, got, own string }{
		{"chatflow", b.ChatflowID, f.ChatflowID}, {"chat", b.ChatID, f.ChatID}, {"message", b.MessageID, f.MessageID},
	} {
		if id.got != "" && id.got != id.own {
			fail(c, http.StatusBadRequest, "Inconsistent %s ID: feedback %s belongs to %s %s, not %s", id.name, f.ID, id.name, id.own, id.got)
			return
		}
	}
	f.Rating = cmp.Or(b.Rating, f.Rating)
	f.Content = pick(b.Content, f.Content)
	if err := h.store.UpdateFeedback(c, f); err != nil {
		failErr(c, h.log, "Feedback with ID", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "OK"})
}

// list answers a chatflow's feedback, oldest first (order=DESC: newest), optionally of one
// chat (chatId) and from startDate to endDate.
func (h *feedback) list(c *gin.Context) {
	if _, ok := h.auth.flow(c, c.Param("id")); !ok {
		return
	}
	start, end, err := dateRange(c)
	if err != nil {
		fail(c, http.StatusBadRequest, "%s", err.Error())
		return
	}
	out, err := h.store.ListFeedback(c, models.FeedbackFilter{ChatflowID: c.Param("id"), ChatID: c.Query("chatId"),
		Start: start, End: end, Descending: strings.EqualFold(c.Query("order"), "DESC")})
	if err != nil {
		failErr(c, h.log, "Feedback", err)
		return
	}
	c.JSON(http.StatusOK, out)
}
