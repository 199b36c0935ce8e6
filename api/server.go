// Package api is Flowgate's HTTP API, compatible with Flowise's: same paths, bodies, error shape
// and SSE framing. Handlers translate HTTP into calls on the store and on Temporal; no flow runs
// here.
//
// Handlers are grouped by resource (chatflows, credentials, predictions, …); each resource
// holds only the dependencies it uses and registers its own routes.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Config holds the API's own settings.
type Config struct {
	Version   string
	TaskQueue string
	// PredictionTimeout bounds a whole prediction: the run's execution timeout and the API's
	// wait for it.
	PredictionTimeout time.Duration
	// ResendWindow: a prediction resent without an Idempotency-Key this long after its run
	// ended gets that run's answer; later, it is a new turn.
	ResendWindow time.Duration
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
	// RateLimitIPv6Prefix is how many leading bits of an IPv6 client address name one client
	// for rate limits; 0 means ratelimit.DefaultIPv6Prefix (a /64).
	RateLimitIPv6Prefix int
	// CORSOrigins (CORS_ORIGINS) are the origins whose pages may call every route; "*" is any.
	// The chat widget's routes take any origin regardless (see origins.go).
	CORSOrigins []string
	// CORSAllowCredentials (CORS_ALLOW_CREDENTIALS) lets those pages send cookies too.
	CORSAllowCredentials bool
	// FrameAncestors (IFRAME_ORIGINS) are the origins that may frame Flowgate's answers; empty
	// or "*" sends no policy.
	FrameAncestors []string
}

// Deps are the services the API works with.
type Deps struct {
	Store    *models.Store
	Temporal client.Client
	Broker   stream.Broker
	// Cipher encrypts credentials; nil leaves them unusable.
	Cipher *secrets.Cipher
	Keys   apikeys.Store
	// Files holds uploads and attachments.
	Files storage.Store
	// Converter decodes what runs record (the Temporal client's data converter, with its
	// codec); nil is Temporal's default.
	Converter converter.DataConverter
	Log       *slog.Logger
	// Metrics records the process's series; nil when metrics are off.
	Metrics *telemetry.Metrics
	// Tracer opens predictions' API spans; nil when tracing is off.
	Tracer trace.Tracer
	// Scrape serves the series at GET /api/v1/metrics; nil unless Prometheus serves them.
	Scrape http.Handler
}

// resource is a group of handlers. open routes need no management key (a chatflow's own
// bound key may still guard them); v1 routes need a valid API key.
type resource interface {
	routes(open, v1 *gin.RouterGroup)
}

// rootResource is a group of handlers outside /api/v1, at the paths its clients expect
// (OpenAI's clients call a base URL ending in /v1).
type rootResource interface {
	rootRoutes(root *gin.RouterGroup)
}

// Server serves the API.
type Server struct {
	cfg       Config
	log       *slog.Logger
	auth      *auth
	resources []resource
	routes    *routeCatalogue
	metrics   *telemetry.Metrics

	// roots are the resources outside /api/v1.
	roots []rootResource
}

// New builds a server from its settings and dependencies.
func New(cfg Config, deps Deps) *Server {
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
	log := deps.Log
	auth := &auth{keys: deps.Keys, flows: deps.Store, log: log}
	metrics := deps.Metrics
	limits := &rateLimits{limiter: cfg.Limiter, ips: cfg.ClientIP, ipv6Prefix: cfg.RateLimitIPv6Prefix, auth: auth, log: log, metrics: metrics}
	plans := newCompiledFlows(256, node.ChatflowPlan)
	files := chatFiles{store: deps.Files}
	p := &predictions{cfg: cfg, store: deps.Store, temporal: deps.Temporal, broker: deps.Broker, converter: deps.Converter, files: files,
		plans: plans, graphs: newCompiledFlows(256, node.AgentflowGraph), auth: auth, limits: limits, log: log,
		metrics: metrics, tracer: deps.Tracer}
	return &Server{cfg: cfg, log: log, auth: auth, routes: newRouteCatalogue(flowiseRoutes), metrics: metrics, roots: []rootResource{&openAI{p: p, log: log}}, resources: []resource{
		&chatflows{store: deps.Store, plans: plans, files: files, log: log, metrics: metrics},
		&publicFlows{store: deps.Store, auth: auth, log: log},
		&feedback{store: deps.Store, auth: auth, log: log},
		&leads{store: deps.Store, auth: auth, log: log},
		&credentials{store: deps.Store, cipher: deps.Cipher, log: log},
		&variables{store: deps.Store, log: log},
		&exportImport{store: deps.Store, limit: cfg.BodyLimit, log: log},
		&tools{store: deps.Store, log: log, metrics: metrics},
		&keys{store: deps.Keys, log: log},
		&executions{store: deps.Store, log: log},
		&messages{store: deps.Store, files: files, log: log},
		&documentStores{store: deps.Store, runs: &workRuns{temporal: deps.Temporal, cfg: cfg, log: log, metrics: metrics}, log: log},
		p,
		&scrape{handler: deps.Scrape},
		&attachments{auth: auth, limits: limits, files: files, log: log},
		&vectorUpserts{auth: auth, limits: limits, runs: &workRuns{temporal: deps.Temporal, cfg: cfg, log: log, metrics: metrics}, files: files, log: log},
	}}
}

// Handler returns the routed API.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Handlers pass c as a context: let it carry the request's cancellation and deadline.
	r.ContextWithFallback = true
	// CORS comes before the checks that may refuse a request, so a page can read why.
	cors := newCORSPolicy(s.cfg, s.routes)
	if s.metrics != nil {
		// First, so that the requests the checks below refuse, and handlers' panics (500s
		// once recoverer answers them), are counted too.
		r.Use(countRequests(s.metrics))
	}
	r.Use(recoverer(s.log))
	r.Use(logRequests(s.log, s.cfg.ClientIP), cors.handle, limitBody(s.cfg.BodyLimit), refuseUnprintableIDs)
	r.NoRoute(func(c *gin.Context) {
		fail(c, http.StatusNotFound, "Route %s %s not found", c.Request.Method, c.Request.URL.Path)
	})

	if s.cfg.Ready != nil {
		r.GET("/readyz", gin.WrapF(s.cfg.Ready))
	}

	open := r.Group("/api/v1")
	open.GET("/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	open.GET("/ip", showIP(s.cfg.ClientIP))
	open.GET("/version", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"version": s.cfg.Version}) })
	v1 := r.Group("/api/v1", s.auth.requireKey)
	for _, res := range s.resources {
		res.routes(open, v1)
	}
	for _, res := range s.roots {
		res.rootRoutes(&r.RouterGroup)
	}
	s.routes.register(r, cors.preflight)
	registerExtensionPreflights(r, cors.preflight)
	return r
}
