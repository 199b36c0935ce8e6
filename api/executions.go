package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/models"
)

// listExecutions answers GET /api/v1/executions: agentflow runs, newest first, filtered by
// agentflowId, sessionId and state, in pages (page from 1, limit).
func (s *Server) listExecutions(c *gin.Context) {
	f := models.ExecutionFilter{AgentflowID: c.Query("agentflowId"), SessionID: c.Query("sessionId"), State: c.Query("state")}
	var err error
	if f.Page, f.Limit, err = pageParams(c); err != nil {
		fail(c, http.StatusBadRequest, "%v", err)
		return
	}
	rows, total, err := s.store.ListExecutions(c, f)
	if err != nil {
		s.failErr(c, "Executions", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": rows, "total": total})
}

// getExecution answers GET /api/v1/executions/{id}.
func (s *Server) getExecution(c *gin.Context) {
	e, err := s.store.GetExecution(c, c.Param("id"))
	if err != nil {
		s.failErr(c, "Execution", err)
		return
	}
	c.JSON(http.StatusOK, e)
}
