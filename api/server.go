// Package api is Flowgate's HTTP API, compatible with Flowise's: same paths, bodies, error shape
// and SSE framing. Handlers translate HTTP into calls on the store and on Temporal; no flow runs
// here.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
)

// Config holds the API's own settings.
type Config struct {
	Version   string
	TaskQueue string
	// PredictionTimeout bounds a whole prediction: the run's execution timeout and the API's
	// wait for it.
	PredictionTimeout time.Duration
	// HumanInputTimeout bounds an agentflow run, which may wait this long for human input.
	HumanInputTimeout time.Duration
	// BodyLimit is FLOWISE_FILE_SIZE_LIMIT in bytes.
	BodyLimit int64
	// SearchAttributes sets FlowiseChatflowId/FlowiseChatId on runs; the namespace must have them.
	SearchAttributes bool
	// HeartbeatInterval is the idle time after which an SSE stream gets a ":heartbeat" comment.
	HeartbeatInterval time.Duration
	// Ready answers GET /readyz: the health of the database and Temporal.
	Ready http.HandlerFunc
	// ClientIP resolves the client address behind proxies; nil uses the socket address.
	ClientIP *ratelimit.IPResolver
	// Limiter enforces chatflows' rate limits; nil turns them off.
	Limiter *ratelimit.Limiter
}

// Server serves the API.
type Server struct {
	cfg      Config
	store    *models.Store
	temporal client.Client
	broker   stream.Broker
	cipher   *secrets.Cipher
	keys     apikeys.Store
	log      *slog.Logger
	plans    *planCache
	files    storage.Store
}

// New builds a server from its dependencies.
func New(cfg Config, store *models.Store, tc client.Client, broker stream.Broker, cipher *secrets.Cipher, keys apikeys.Store, files storage.Store, log *slog.Logger) *Server {
	if cfg.PredictionTimeout <= 0 {
		cfg.PredictionTimeout = 5 * time.Minute
	}
	if cfg.HumanInputTimeout <= 0 {
		cfg.HumanInputTimeout = 30 * 24 * time.Hour
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 50 << 20
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 30 * time.Second
	}
	return &Server{cfg: cfg, store: store, temporal: tc, broker: broker, cipher: cipher, keys: keys, files: files, log: log, plans: newPlanCache(256)}
}

// Handler returns the routed API.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Handlers pass c as a context: let it carry the request's cancellation and deadline.
	r.ContextWithFallback = true
	r.Use(s.recoverer(), s.logRequests(), s.limitBody())
	r.NoRoute(func(c *gin.Context) {
		fail(c, http.StatusNotFound, "Route %s %s not found", c.Request.Method, c.Request.URL.Path)
	})

	if s.cfg.Ready != nil {
		r.GET("/readyz", gin.WrapF(s.cfg.Ready))
	}

	// Open routes: health, version, streaming support, key verification, and the routes a
	// chatflow's own bound key protects (prediction, abort).
	open := r.Group("/api/v1")
	open.GET("/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	open.GET("/ip", s.showIP)
	open.GET("/version", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"version": s.cfg.Version}) })
	open.GET("/chatflows-streaming/:id", s.chatflowStreaming)
	open.GET("/verify/apikey/:key", s.verifyKey)
	open.POST("/prediction/:id", s.predict)
	open.PUT("/chatmessage/abort/:id/:chatId", s.abort)
	open.POST("/attachments/:id/:chatId", s.createAttachments)
	open.GET("/get-upload-file", s.getUploadFile)

	// Management routes need a valid API key.
	v1 := r.Group("/api/v1", s.requireKey)
	v1.POST("/chatflows", s.createChatflow)
	v1.GET("/chatflows", s.listChatflows)
	v1.GET("/chatflows/:id", s.getChatflow)
	v1.PUT("/chatflows/:id", s.updateChatflow)
	v1.DELETE("/chatflows/:id", s.deleteChatflow)

	v1.POST("/credentials", s.createCredential)
	v1.GET("/credentials", s.listCredentials)
	v1.GET("/credentials/:id", s.getCredential)
	v1.PUT("/credentials/:id", s.updateCredential)
	v1.DELETE("/credentials/:id", s.deleteCredential)

	v1.GET("/variables", s.listVariables)
	v1.POST("/variables", s.createVariable)
	v1.PUT("/variables/:id", s.updateVariable)
	v1.DELETE("/variables/:id", s.deleteVariable)

	v1.GET("/tools", s.listTools)
	v1.GET("/tools/:id", s.getTool)
	v1.POST("/tools", s.createTool)
	v1.PUT("/tools/:id", s.updateTool)
	v1.DELETE("/tools/:id", s.deleteTool)

	v1.GET("/apikey", s.listKeys)
	v1.POST("/apikey", s.createKey)
	v1.PUT("/apikey/:id", s.renameKey)
	v1.DELETE("/apikey/:id", s.deleteKey)

	v1.GET("/executions", s.listExecutions)
	v1.GET("/executions/:id", s.getExecution)

	v1.POST("/document-store/store", s.createDocumentStore)
	v1.GET("/document-store/store", s.listDocumentStores)
	v1.GET("/document-store/store/:id", s.getDocumentStore)
	v1.PUT("/document-store/store/:id", s.updateDocumentStore)
	v1.DELETE("/document-store/store/:id", s.deleteDocumentStore)
	v1.POST("/document-store/upsert/:id", s.upsertDocumentStore)
	v1.POST("/document-store/vectorstore/query", s.queryDocumentStore)

	v1.GET("/chatmessage/:id", s.listMessages)
	v1.DELETE("/chatmessage/:id", s.deleteMessages)
	return r
}
