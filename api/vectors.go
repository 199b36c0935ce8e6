package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/knowledge/loader"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// vectorUpserts serves Flowise's vector upsert of a chatflow: the vector store node and the
// loaders, splitter and embeddings wired into it run as a workflow on the worker tier
// (vectorUpsert), and the answer is the vector store's: {numAdded, addedDocs}.
type vectorUpserts struct {
	auth *auth
	// limits are the chatflow's rate limits, which Flowise applies to upserts too: each one
	// pays for embeddings.
	limits *rateLimits
	runs   *workRuns
	files  chatFiles
	log    *slog.Logger
}

func (h *vectorUpserts) routes(_, v1 *gin.RouterGroup) {
	v1.POST("/vector/upsert/:id", h.upsert)
	v1.POST("/vector/internal-upsert/:id", h.upsert)
}

// vectorUpsertBody is what Flowise's upsert takes: JSON, or a multipart form whose fields are
// the same (overrideConfig as JSON text) with the documents in "files".
type vectorUpsertBody struct {
	StopNodeID     string         `json:"stopNodeId"`
	ChatID         string         `json:"chatId"`
	OverrideConfig map[string]any `json:"overrideConfig"`
}

func (h *vectorUpserts) upsert(c *gin.Context) {
	f, ok := h.auth.authorizedFlow(c)
	if !ok {
		return
	}
	if rule, ok := h.limits.rule(c, f); !ok || !h.limits.take(c, f.ID, rule, "") {
		return
	}
	var body vectorUpsertBody
	var form *multipart.Form
	if isMultipart(c) {
		mf, ok := multipartForm(c)
		if !ok {
			return
		}
		defer mf.RemoveAll()
		form = mf
		body.StopNodeID, body.ChatID = first(mf.Value["stopNodeId"]), first(mf.Value["chatId"])
		body.OverrideConfig = map[string]any{}
		for k, v := range mf.Value {
			if len(v) == 0 || k == "stopNodeId" || k == "chatId" {
				continue
			}
			// Flowise spreads the form's fields into overrideConfig.
			var parsed any
			if json.Unmarshal([]byte(v[0]), &parsed) == nil && k == "overrideConfig" {
				if m, ok := parsed.(map[string]any); ok {
					for mk, mv := range m {
						body.OverrideConfig[mk] = mv
					}
					continue
				}
			}
			body.OverrideConfig[k] = v[0]
		}
	} else if c.Request.ContentLength != 0 && !bindJSON(c, &body) {
		return
	}
	g, err := chatflow.Parse(f.FlowData)
	if err == nil {
		var plan *chatflow.Plan
		if plan, err = chatflow.UpsertPlan(g, node.InChatflow, body.StopNodeID); err == nil {
			h.run(c, f, plan, body, form)
			return
		}
	}
	var flowErr *chatflow.Error
	if errors.As(err, &flowErr) && flowErr.Msg == "No vector node found" {
		fail(c, http.StatusNotFound, "%s", flowErr.Msg)
		return
	}
	fail(c, http.StatusInternalServerError, "%v", err)
}

func (h *vectorUpserts) run(c *gin.Context, f *models.ChatFlow, plan *chatflow.Plan, body vectorUpsertBody, form *multipart.Form) {
	chatID := body.ChatID
	if chatID == "" {
		if s, ok := body.OverrideConfig["sessionId"].(string); ok {
			chatID = s
		}
	}
	if chatID == "" {
		chatID = uuid.NewString()
	}
	run := node.Run{ChatflowID: f.ID, ChatID: chatID, SessionID: chatID}
	apiConfig, err := chatflow.ParseAPIConfig(deref(f.APIConfig))
	if err != nil {
		fail(c, http.StatusInternalServerError, "%v", err)
		return
	}
	if apiConfig.OverrideConfig.Status && len(body.OverrideConfig) > 0 {
		if plan, err = plan.ApplyOverrides(apiConfig.OverrideConfig, body.OverrideConfig); err != nil {
			fail(c, http.StatusBadRequest, "%v", err)
			return
		}
	}
	// The request's files go to storage under the run's chat; each loader whose file input
	// takes them reads them there (FILE-STORAGE::[names]), as Flowise's upsert does.
	if form != nil {
		byInput := map[string][]string{}
		for _, fh := range form.File["files"] {
			if err := h.files.putFormFile(c, &run, fh); err != nil {
				var bad *uploadError
				if errors.As(err, &bad) {
					fail(c, http.StatusBadRequest, "%s", bad.msg)
					return
				}
				failErr(c, h.log, "Upload", err)
				return
			}
			in := loader.InputForFile(fh.Filename, formFileMime(fh))
			byInput[in] = append(byInput[in], fh.Filename)
		}
		for i, s := range plan.Steps {
			in := loader.FileInputs[s.Node.Data.Name]
			if names := byInput[in]; len(names) > 0 {
				list, _ := json.Marshal(names)
				inputs := make(map[string]any, len(s.Node.Data.Inputs)+1)
				for k, v := range s.Node.Data.Inputs {
					inputs[k] = v
				}
				inputs[in] = loader.StoragePrefix + string(list)
				plan.Steps[i].Node.Data.Inputs = inputs
			}
		}
	}
	var out node.VectorAdded
	ok := h.runs.do(c, "vector upsert", node.VectorUpsertWorkflow, node.VectorUpsertWorkflowID(f.ID, uuid.NewString()), upsertTimeout,
		node.VectorUpsertInput{Plan: *plan, Run: run}, &out)
	h.runs.metrics.Count(c, telemetry.VectorUpserted, ok)
	if ok {
		if out.AddedDocs == nil {
			out.AddedDocs = []node.Document{}
		}
		c.JSON(http.StatusOK, out)
	}
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
