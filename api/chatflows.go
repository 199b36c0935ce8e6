package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// chatflows serves the chatflows: their management, and whether they can stream.
type chatflows struct {
	store *models.Store
	// plans compiles flows for the streaming check; predictions share it.
	plans *compiledFlows[*chatflow.Plan]
	// files are the flows' conversations' files, deleted with the flow.
	files chatFiles
	log   *slog.Logger
	// metrics counts creations (nil: off).
	metrics *telemetry.Metrics
}

func (h *chatflows) routes(open, v1 *gin.RouterGroup) {
	open.GET("/chatflows-streaming/:id", h.streaming)
	v1.POST("/chatflows", h.create)
	v1.GET("/chatflows", h.list)
	v1.GET("/chatflows/:id", h.get)
	v1.PUT("/chatflows/:id", h.update)
	v1.DELETE("/chatflows/:id", h.delete)
}

// chatflowBody is what clients POST and PUT; pointers tell "absent" from "empty" on update.
type chatflowBody struct {
	ID            *string `json:"id"`
	Name          *string `json:"name"`
	FlowData      *string `json:"flowData"`
	Deployed      *bool   `json:"deployed"`
	IsPublic      *bool   `json:"isPublic"`
	APIKeyID      *string `json:"apikeyid"`
	ChatbotConfig *string `json:"chatbotConfig"`
	APIConfig     *string `json:"apiConfig"`
	Analytic      *string `json:"analytic"`
	Category      *string `json:"category"`
	Type          *string `json:"type"`
}

var chatflowTypes = map[string]bool{"CHATFLOW": true, "AGENTFLOW": true, "MULTIAGENT": true, "ASSISTANT": true}

// apply validates the body and copies the fields it carries onto f.
func (b chatflowBody) apply(f *models.ChatFlow) (string, bool) {
	if b.Name != nil {
		if strings.TrimSpace(*b.Name) == "" {
			return "name must not be empty", false
		}
		f.Name = *b.Name
	}
	if b.FlowData != nil {
		if _, err := chatflow.Parse(*b.FlowData); err != nil {
			return err.Error(), false
		}
		f.FlowData = *b.FlowData
	}
	if b.APIConfig != nil && *b.APIConfig != "" {
		if _, err := chatflow.ParseAPIConfig(*b.APIConfig); err != nil {
			return err.Error(), false
		}
		// A limit that cannot be enforced would fail every prediction; refuse it now.
		if _, err := ratelimit.ParseRule(*b.APIConfig); err != nil {
			return err.Error(), false
		}
	}
	if b.ChatbotConfig != nil && *b.ChatbotConfig != "" {
		// The widget's routes read it for every visitor: a setting they cannot read would
		// quietly turn off what it says (allowedOrigins among them).
		var cfg struct {
			AllowedOrigins []string `json:"allowedOrigins"`
		}
		if err := json.Unmarshal([]byte(*b.ChatbotConfig), &cfg); err != nil || !strings.HasPrefix(strings.TrimSpace(*b.ChatbotConfig), "{") {
			return "Invalid chatbotConfig: it must be a JSON object, with allowedOrigins a list of URLs", false
		}
	}
	if b.Type != nil {
		if !chatflowTypes[*b.Type] {
			return "type must be one of CHATFLOW, AGENTFLOW, MULTIAGENT, ASSISTANT", false
		}
		f.Type = *b.Type
	}
	f.Deployed = pick(b.Deployed, f.Deployed)
	f.IsPublic = pick(b.IsPublic, f.IsPublic)
	f.APIKeyID = pick(b.APIKeyID, f.APIKeyID)
	f.ChatbotConfig = pick(b.ChatbotConfig, f.ChatbotConfig)
	f.APIConfig = pick(b.APIConfig, f.APIConfig)
	f.Analytic = pick(b.Analytic, f.Analytic)
	f.Category = pick(b.Category, f.Category)
	return "", true
}

// savedFlow is the answer to saving a flow: the flow, as Flowise answers, and (a Flowgate
// extension) every node this version cannot run and their kinds. Saving succeeds either way, as
// in Flowise, so an editor can keep working on a flow; the lists say at once what a
// prediction would refuse, instead of at the first prediction.
type savedFlow struct {
	*models.ChatFlow
	UnsupportedNodes []node.Surveyed `json:"unsupportedNodes,omitempty"`
	UnsupportedKinds []string        `json:"unsupportedKinds,omitempty"`
}

func surveyed(f *models.ChatFlow) savedFlow {
	out := savedFlow{ChatFlow: f}
	if f.Type != models.TypeChatflow && f.Type != models.TypeAgentflow {
		return out
	}
	// A flow that does not parse was refused before saving; an agentflow that is not yet
	// valid (the editor saves work in progress) has nothing to report until it is.
	if s, err := node.SurveyFlow(f.FlowData, f.Type == models.TypeAgentflow); err == nil {
		out.UnsupportedNodes, out.UnsupportedKinds = s.Unsupported(), s.UnsupportedKinds()
	}
	return out
}

func pick[T any](incoming, current *T) *T {
	if incoming != nil {
		return incoming
	}
	return current
}

func (h *chatflows) create(c *gin.Context) {
	var b chatflowBody
	if !bindJSON(c, &b) {
		return
	}
	if b.Name == nil || b.FlowData == nil {
		fail(c, http.StatusBadRequest, "name and flowData are required")
		return
	}
	f := &models.ChatFlow{ID: uuid.NewString(), Type: models.TypeChatflow}
	if b.ID != nil && *b.ID != "" {
		if _, err := uuid.Parse(*b.ID); err != nil {
			fail(c, http.StatusBadRequest, "id must be a UUID")
			return
		}
		f.ID = *b.ID
	}
	if msg, ok := b.apply(f); !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	if err := h.store.CreateChatFlow(c, f); err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	// As Flowise counts: agentflow_created for its MULTIAGENT type only.
	counter := telemetry.ChatflowCreated
	if f.Type == "MULTIAGENT" {
		counter = telemetry.AgentflowCreated
	}
	h.metrics.Count(c, counter, true)
	c.JSON(http.StatusOK, surveyed(f))
}

func (h *chatflows) list(c *gin.Context) {
	typ := c.Query("type")
	if typ != "" && !chatflowTypes[typ] {
		fail(c, http.StatusBadRequest, "type must be one of CHATFLOW, AGENTFLOW, MULTIAGENT, ASSISTANT")
		return
	}
	flows, err := h.store.ListChatFlows(c, typ)
	if err != nil {
		failErr(c, h.log, "Chatflows", err)
		return
	}
	c.JSON(http.StatusOK, flows)
}

func (h *chatflows) get(c *gin.Context) {
	f, err := h.store.GetChatFlow(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	c.JSON(http.StatusOK, f)
}

func (h *chatflows) update(c *gin.Context) {
	f, err := h.store.GetChatFlow(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	var b chatflowBody
	if !bindJSON(c, &b) {
		return
	}
	if msg, ok := b.apply(f); !ok {
		fail(c, http.StatusBadRequest, "%s", msg)
		return
	}
	if err := h.store.UpdateChatFlow(c, f); err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	c.JSON(http.StatusOK, surveyed(f))
}

func (h *chatflows) delete(c *gin.Context) {
	if _, err := h.store.GetChatFlow(c, c.Param("id")); err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	prefix, perr := storage.FlowPrefix(c.Param("id"))
	if err := h.files.deleteUnder(c, prefix, perr); err != nil {
		failUpload(c, h.log, err)
		return
	}
	if err := h.store.DeleteChatFlow(c, c.Param("id")); err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}

// streaming tells clients whether the flow can answer as a stream.
func (h *chatflows) streaming(c *gin.Context) {
	f, err := h.store.GetChatFlow(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Chatflow", err)
		return
	}
	if !allowOrigin(c, f, false) {
		return
	}
	if f.Type == agentflowType { // agentflows always stream their events
		c.JSON(http.StatusOK, gin.H{"isStreaming": true})
		return
	}
	plan, err := h.plans.get(c, f)
	c.JSON(http.StatusOK, gin.H{"isStreaming": err == nil && plan.CanStream()})
}
