package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/models"
)

// executions serves the records of agentflow runs.
type executions struct {
	store *models.Store
	log   *slog.Logger
}

func (h *executions) routes(_, v1 *gin.RouterGroup) {
	v1.GET("/executions", h.list)
	v1.GET("/executions/:id", h.get)
}

// list answers GET /api/v1/executions: agentflow runs, newest first, filtered by
// agentflowId, sessionId and state, in pages (page from 1, limit).
func (h *executions) list(c *gin.Context) {
	f := models.ExecutionFilter{AgentflowID: c.Query("agentflowId"), SessionID: c.Query("sessionId"), State: c.Query("state")}
	var err error
	if f.Page, f.Limit, err = pageParams(c); err != nil {
		fail(c, http.StatusBadRequest, "%v", err)
		return
	}
	rows, total, err := h.store.ListExecutions(c, f)
	if err != nil {
		failErr(c, h.log, "Executions", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": rows, "total": total})
}

// get answers GET /api/v1/executions/{id}.
func (h *executions) get(c *gin.Context) {
	e, err := h.store.GetExecution(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Execution", err)
		return
	}
	c.JSON(http.StatusOK, e)
}
