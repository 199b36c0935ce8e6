package api

import (
	"slices"

	"github.com/gin-gonic/gin"
)

// extensionRoutes are the routes Flowgate offers beyond Flowise's API (docs/extensions.md):
// async runs below /api/v1, and OpenAI's API at /v1, where its clients look for it.
// TestRouteTableMatchesTheServer holds them, with flowiseRoutes, to what the server routes.
var extensionRoutes = []struct{ method, path string }{
	{"GET", "/api/v1/runs/:runId"},
	{"GET", "/api/v1/runs/:runId/stream"},
	{"GET", "/v1/models"},
	{"POST", "/v1/chat/completions"},
}

// registerExtensionPreflights routes the extensions' paths to the CORS preflight. They are not
// the chat widget's, so the pages of CORS_ORIGINS may call them.
func registerExtensionPreflights(r *gin.Engine, preflight gin.HandlerFunc) {
	var paths []string
	for _, route := range extensionRoutes {
		if !slices.Contains(paths, route.path) {
			paths = append(paths, route.path)
			r.OPTIONS(route.path, preflight)
		}
	}
}
