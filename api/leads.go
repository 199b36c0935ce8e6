package api

import (
	"cmp"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/models"
)

// leads serves the contacts the widget's lead form collects: anyone chatting may leave one
// (an open route, like the chat), and a management key lists them, since they are people's
// names, addresses and numbers (Flowise lists them to anyone).
type leads struct {
	store *models.Store
	auth  *auth
	log   *slog.Logger
}

func (h *leads) routes(open, v1 *gin.RouterGroup) {
	open.POST("/leads", h.create)
	open.POST("/leads/", h.create) // where the widget posts
	v1.GET("/leads/:id", h.list)
}

// leadBody is what the widget's lead form sends; which of name, email and phone it asks for
// is the chatflow's choice (chatbotConfig.leads).
type leadBody struct {
	ChatflowID string  `json:"chatflowid"`
	ChatID     string  `json:"chatId"`
	Name       *string `json:"name"`
	Email      *string `json:"email"`
	Phone      *string `json:"phone"`
}

// create stores a lead of the chatflow the body names; a lead without a chat gets a new chat
// id, as in Flowise.
func (h *leads) create(c *gin.Context) {
	var b leadBody
	if !bindJSON(c, &b) {
		return
	}
	if !printable(b.ChatflowID) || b.ChatflowID == "" {
		fail(c, http.StatusBadRequest, "chatflowid is required, without control characters or invalid UTF-8")
		return
	}
	// The chatflow (and whether it takes the page's site) comes before the rest of the body.
	if _, ok := h.auth.widgetFlow(c, b.ChatflowID); !ok {
		return
	}
	msg := conversationIDProblem("chatId", b.ChatID)
	if field := unstorableField(b); field != "" {
		msg = field + " must not contain NUL characters or invalid UTF-8"
	}
	if msg != "" {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	l := &models.Lead{ID: uuid.NewString(), ChatflowID: b.ChatflowID, ChatID: cmp.Or(b.ChatID, uuid.NewString()),
		Name: b.Name, Email: b.Email, Phone: b.Phone}
	if err := h.store.CreateLead(c, l); err != nil {
		failErrOf(c, h.log, "Lead", l.ID, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

// list answers a chatflow's leads, oldest first.
func (h *leads) list(c *gin.Context) {
	if _, ok := h.auth.flow(c, c.Param("id")); !ok {
		return
	}
	out, err := h.store.ListLeads(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Leads", err)
		return
	}
	c.JSON(http.StatusOK, out)
}
