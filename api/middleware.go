package api

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/ratelimit"
)

// recoverer turns a panic into a 500 in Flowise's shape; the process keeps serving.
func recoverer(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.Error("panic in handler", "path", c.FullPath(), "panic", r, "stack", string(debug.Stack()))
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
func limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			fail(c, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", limit)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// logRequests logs one line per request. It names the route pattern, not the path, so a key in
// a path (/verify/apikey/:key) or a query string never reaches the logs.
func logRequests(log *slog.Logger, ips *ratelimit.IPResolver) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "(no route)"
		}
		log.Info("request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(),
			"duration", time.Since(start), "client", clientIP(ips, c))
	}
}
