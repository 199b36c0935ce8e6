package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/models"
)

// listExecutions answers GET /api/v1/executions: agentflow runs, newest first, filtered by
// agentflowId, sessionId and state, in pages (page from 1, limit).
func (s *Server) listExecutions(c *gin.Context) {
	f := models.ExecutionFilter{AgentflowID: c.Query("agentflowId"), SessionID: c.Query("sessionId"), State: c.Query("state")}
	for name, dst := range map[string]*int{"page": &f.Page, "limit": &f.Limit} {
		if v := c.Query(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				fail(c, http.StatusBadRequest, "%s must be a non-negative whole number, got %q", name, v)
				return
			}
			*dst = n
		}
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
