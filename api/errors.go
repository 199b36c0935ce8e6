package api

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/models"
)

// errorBody is Flowise's error shape.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Success    bool   `json:"success"`
	Message    string `json:"message"`
}

// fail answers with Flowise's error shape and stops the chain. Every 503 carries Retry-After,
// so clients and load balancers back off and come back instead of hammering or hanging.
func fail(c *gin.Context, status int, format string, args ...any) {
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "5")
	}
	c.AbortWithStatusJSON(status, errorBody{StatusCode: status, Message: fmt.Sprintf(format, args...)})
}

// failErr maps a store error: not found is 404; a database that cannot be reached is 503 with
// Retry-After, so clients back off and come back once it recovers; anything else is logged
// and 500 without internals.
func (s *Server) failErr(c *gin.Context, what string, err error) {
	if errors.Is(err, models.ErrNotFound) {
		fail(c, http.StatusNotFound, "%s %s not found", what, c.Param("id"))
		return
	}
	if models.IsUnavailable(err) {
		s.log.Warn("database unavailable", "path", c.FullPath(), "error", err)
		fail(c, http.StatusServiceUnavailable, "The database is unavailable; try again shortly")
		return
	}
	s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err)
	fail(c, http.StatusInternalServerError, "%s: internal error", what)
}

// recoverer turns a panic into a 500 in Flowise's shape; the process keeps serving.
func (s *Server) recoverer() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic in handler", "path", c.FullPath(), "panic", r, "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					fail(c, http.StatusInternalServerError, "internal error")
				}
			}
		}()
		c.Next()
	}
}

// limitBody caps request bodies at FLOWISE_FILE_SIZE_LIMIT; readers past it get an error that
// bindJSON turns into 413.
func (s *Server) limitBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > s.cfg.BodyLimit {
			fail(c, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", s.cfg.BodyLimit)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.BodyLimit)
		c.Next()
	}
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

// logRequests logs one line per request. It names the route pattern, not the path, so a key in
// a path (/verify/apikey/:key) or a query string never reaches the logs.
func (s *Server) logRequests() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "(no route)"
		}
		s.log.Info("request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"duration", time.Since(start), "client", s.clientIP(c))
	}
}
