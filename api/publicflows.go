package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/models"
)

// publicFlows serves what anyone may read of chatflows, without a management key: a
// chatflow's chat settings for Flowise's widget, a chatflow shared as public, what its chat
// may upload, and the chatflows an API key may run.
type publicFlows struct {
	store *models.Store
	auth  *auth
	log   *slog.Logger
}

func (h *publicFlows) routes(open, _ *gin.RouterGroup) {
	open.GET("/public-chatbotConfig/:id", h.chatbotConfig)
	open.GET("/public-chatflows/:id", h.chatflow)
	open.GET("/chatflows-uploads/:id", h.uploads)
	open.GET("/chatflows/apikey/:apikey", h.forKey)
}

// chatbotConfig answers what Flowise's widget asks when it opens: the chatflow's chatbotConfig
// (welcome message, starter prompts, theme, lead form, feedback, file upload), without the
// allowed origins, with what its chat may upload, the flow as the public may see it (the
// widget reads an agentflow's start form from it), and whether answers are read aloud (never:
// Flowgate has no text to speech).
func (h *publicFlows) chatbotConfig(c *gin.Context) {
	f, ok := h.auth.flow(c, c.Param("id"))
	if !ok || !allowOrigin(c, f, false) {
		return
	}
	var cfg map[string]json.RawMessage
	if f.ChatbotConfig != nil && json.Unmarshal([]byte(*f.ChatbotConfig), &cfg) != nil {
		cfg = nil // unreadable settings are none (the API refuses to save such)
	}
	out := make(map[string]any, len(cfg)+3)
	for k, v := range cfg {
		out[k] = v
	}
	delete(out, "allowedOrigins")
	delete(out, "allowedOriginsError")
	out["uploads"] = policyOf(f).offer()
	out["flowData"] = chatflow.PublicFlowData(f.FlowData)
	out["isTTSEnabled"] = false
	c.JSON(http.StatusOK, out)
}

// chatflow answers a chatflow marked public (isPublic) to anyone, with the public view of its
// flow; any other only to a management key, as Flowise shows it only to its signed-in users.
func (h *publicFlows) chatflow(c *gin.Context) {
	f, ok := h.auth.flow(c, c.Param("id"))
	if !ok {
		return
	}
	switch {
	case f.IsPublic != nil && *f.IsPublic:
		shown := *f
		shown.FlowData = chatflow.PublicFlowData(f.FlowData)
		c.JSON(http.StatusOK, shown)
	case h.auth.verifiedKeyID(c) != "":
		c.JSON(http.StatusOK, f)
	default:
		fail(c, http.StatusUnauthorized, "Unauthorized")
	}
}

// uploads answers what the chatflow's chat may upload.
func (h *publicFlows) uploads(c *gin.Context) {
	if f, ok := h.auth.flow(c, c.Param("id")); ok {
		c.JSON(http.StatusOK, policyOf(f).offer())
	}
}

// forKey lists, by name, the chatflows the key in the path may run: those bound to it and,
// unless ?keyonly is given, those bound to no key. A key that runs none gets an empty list
// (Flowise answers an error).
func (h *publicFlows) forKey(c *gin.Context) {
	key, ok := h.auth.verifyKey(c, c.Param("apikey"))
	if !ok {
		return
	}
	_, keyOnly := c.GetQuery("keyonly")
	flows, err := h.store.ListChatFlowsForKey(c, key.ID, keyOnly)
	if err != nil {
		failErrOf(c, h.log, "Chatflows", "", err)
		return
	}
	c.JSON(http.StatusOK, flows)
}
