package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/models"
)

// errorBody is Flowise's error shape. Flowise fills stack only in development; it is always
// empty here, kept so clients that read it find it.
type errorBody struct {
	StatusCode int      `json:"statusCode"`
	Success    bool     `json:"success"`
	Message    string   `json:"message"`
	Stack      struct{} `json:"stack"`
}

// fail answers with Flowise's error shape and stops the chain. Every 503 carries Retry-After,
// so clients and load balancers back off and come back instead of hammering or hanging.
func fail(c *gin.Context, status int, format string, args ...any) {
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "5")
	}
	msg := fmt.Sprintf(format, args...)
	if speaksOpenAI(c) {
		c.AbortWithStatusJSON(status, openAIError(status, msg))
		return
	}
	c.AbortWithStatusJSON(status, errorBody{StatusCode: status, Message: msg})
}

// failText answers a refusal Flowise sends as plain text (a rate limit's message, a refused
// origin on a streaming request); a route of OpenAI's API answers it in its own shape.
func failText(c *gin.Context, status int, msg string) {
	if speaksOpenAI(c) {
		fail(c, status, "%s", msg)
		return
	}
	c.Abort()
	c.String(status, "%s", msg)
}

// failErr maps a store error: not found is 404; a duplicate of a unique value (a variable's
// name) is 409; a database that cannot be reached is 503 with Retry-After, so clients back off
// and come back once it recovers; anything else is logged and 500 without internals.
func failErr(c *gin.Context, log *slog.Logger, what string, err error) {
	failErrOf(c, log, what, c.Param("id"), err)
}

// failErrOf is failErr for an entity whose id is not the path's id parameter.
func failErrOf(c *gin.Context, log *slog.Logger, what, id string, err error) {
	if errors.Is(err, models.ErrNotFound) {
		fail(c, http.StatusNotFound, "%s %s not found", what, id)
		return
	}
	var conflict *models.ConflictError
	if errors.As(err, &conflict) {
		fail(c, http.StatusConflict, "%s %q already exists", what, conflict.Value)
		return
	}
	if models.IsUnavailable(err) {
		log.Warn("database unavailable", "path", c.FullPath(), "error", err)
		fail(c, http.StatusServiceUnavailable, "The database is unavailable; try again shortly")
		return
	}
	log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err)
	fail(c, http.StatusInternalServerError, "%s: internal error", what)
}

// bindJSON decodes the body into v; on failure it has already answered 400 or 413.
func bindJSON(c *gin.Context, v any) bool {
	err := c.ShouldBindJSON(v)
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		fail(c, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", tooBig.Limit)
		return false
	}
	fail(c, http.StatusBadRequest, "invalid JSON body: %v", err)
	return false
}
