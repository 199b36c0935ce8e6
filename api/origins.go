package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/models"
)

// Browsers let a page call another origin only when the answer names the page's origin
// (CORS), and frame a page only where its Content-Security-Policy lets them. Flowise's rules,
// kept here: the routes Flowise's chat widget calls answer any origin, since the widget is
// pasted into other people's sites, and each chatflow narrows that with chatbotConfig's
// allowedOrigins, refusing other origins with 403; every other route answers only the
// origins CORS_ORIGINS lists; IFRAME_ORIGINS says who may frame the answers.

// corsMethods and corsHeaders are what a preflight allows: every method the API has, and the
// headers Flowise's widget and SDK send plus Flowgate's own (a stream's Last-Event-ID, a
// prediction's Idempotency-Key). Headers a preflight asks for beyond these are allowed too, as
// Flowise's cors middleware does.
const (
	corsMethods = "GET,HEAD,PUT,PATCH,POST,DELETE"
	corsHeaders = "Authorization,Content-Type,Accept,Last-Event-ID,Idempotency-Key,X-Request-From"
)

// corsPolicy answers the CORS and framing questions of every request.
type corsPolicy struct {
	anyOrigin   bool     // CORS_ORIGINS=*
	origins     []string // CORS_ORIGINS, lower case
	credentials bool     // CORS_ALLOW_CREDENTIALS
	// frameAncestors is the Content-Security-Policy sent on every answer; "" sends none.
	frameAncestors string
	routes         *routeCatalogue
}

func newCORSPolicy(cfg Config, routes *routeCatalogue) *corsPolicy {
	p := &corsPolicy{credentials: cfg.CORSAllowCredentials, routes: routes}
	for _, o := range cfg.CORSOrigins {
		if o == "*" {
			p.anyOrigin = true
		}
		p.origins = append(p.origins, strings.ToLower(o))
	}
	if len(cfg.FrameAncestors) > 0 && !slices.Contains(cfg.FrameAncestors, "*") {
		p.frameAncestors = "frame-ancestors " + strings.Join(cfg.FrameAncestors, " ")
	}
	return p
}

// handle is the middleware: it names the request's origin in the answer when that origin may
// read it. Whether a widget route's chatflow takes the origin is its handler's question (see
// allowOrigin): the answer names the origin either way, so the page can read a refusal.
func (p *corsPolicy) handle(c *gin.Context) {
	if p.frameAncestors != "" {
		c.Header("Content-Security-Policy", p.frameAncestors)
	}
	origin := c.GetHeader("Origin")
	if origin == "" { // same origin, or not a browser
		c.Next()
		return
	}
	c.Writer.Header().Add("Vary", "Origin")
	method := c.Request.Method
	if method == http.MethodOptions {
		method = c.GetHeader("Access-Control-Request-Method")
	}
	if p.allows(origin, p.routes.find(method, c.FullPath())) {
		c.Header("Access-Control-Allow-Origin", origin)
		if p.credentials {
			c.Header("Access-Control-Allow-Credentials", "true")
		}
	}
	c.Next()
}

// allows reports whether a page of origin may read answers of the route (nil: no route).
func (p *corsPolicy) allows(origin string, route *flowiseRoute) bool {
	return p.anyOrigin || slices.Contains(p.origins, strings.ToLower(origin)) || route != nil && route.access == widget
}

// preflight answers a browser's OPTIONS before a cross-origin call: 204 with what it may send
// when the origin may call the route, else 403. An OPTIONS that is no preflight learns the
// methods of the path.
func (p *corsPolicy) preflight(c *gin.Context) {
	origin, method := c.GetHeader("Origin"), c.GetHeader("Access-Control-Request-Method")
	if origin == "" || method == "" {
		c.Header("Allow", strings.Join(p.routes.methods(c.FullPath()), ","))
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	if !p.allows(origin, p.routes.find(method, c.FullPath())) {
		fail(c, http.StatusForbidden, "Origin %s may not call %s %s; list it in CORS_ORIGINS", origin, method, c.Request.URL.Path)
		return
	}
	headers := corsHeaders
	if asked := c.GetHeader("Access-Control-Request-Headers"); asked != "" {
		headers += "," + asked
	}
	c.Header("Access-Control-Allow-Methods", corsMethods)
	c.Header("Access-Control-Allow-Headers", headers)
	c.Writer.Header().Add("Vary", "Access-Control-Request-Headers")
	c.AbortWithStatus(http.StatusNoContent)
}

// unauthorizedOrigin is Flowise's refusal when a chatflow's allowedOriginsError says nothing.
const unauthorizedOrigin = "This site is not allowed to access this chatbot"

// originRefusal is why the chatflow refuses a request from origin ("" when it takes it).
// chatbotConfig.allowedOrigins lists the sites (URLs) whose pages may use the chatflow; an
// empty list, or one whose first entry is empty (a list the Flowise editor emptied), takes
// every site. A request without an Origin is not from a page and is always taken. Sites are
// compared by host and port, as Flowise does.
func originRefusal(f *models.ChatFlow, origin string) string {
	if origin == "" || f.ChatbotConfig == nil {
		return ""
	}
	var cfg struct {
		AllowedOrigins      []any  `json:"allowedOrigins"`
		AllowedOriginsError string `json:"allowedOriginsError"`
	}
	// An unreadable chatbotConfig holds no list (the API refuses to save one).
	if json.Unmarshal([]byte(*f.ChatbotConfig), &cfg) != nil || len(cfg.AllowedOrigins) == 0 || cfg.AllowedOrigins[0] == "" {
		return ""
	}
	if host, ok := siteHost(origin); ok {
		for _, site := range cfg.AllowedOrigins {
			if s, _ := site.(string); s != "" {
				if allowed, ok := siteHost(s); ok && allowed == host {
					return ""
				}
			}
		}
	}
	if cfg.AllowedOriginsError != "" {
		return cfg.AllowedOriginsError
	}
	return unauthorizedOrigin
}

// siteHost is the host (and port, unless it is the scheme's default) of an absolute URL, as a
// browser writes it; false for anything else ("example.com" without a scheme, "null").
func siteHost(raw string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	defaults := map[string]string{"http": "80", "ws": "80", "https": "443", "wss": "443"}
	if port == "" || defaults[strings.ToLower(u.Scheme)] == port {
		return host, true
	}
	return host + ":" + port, true
}

// allowOrigin refuses, with 403 and the chatflow's message, a request from a page whose site
// the chatflow's allowedOrigins leave out. A streaming prediction gets the message as text, as
// Flowise sends it and its widget shows it. It reports whether the request may go on.
func allowOrigin(c *gin.Context, f *models.ChatFlow, streaming bool) bool {
	msg := originRefusal(f, c.GetHeader("Origin"))
	switch {
	case msg == "":
		return true
	case streaming:
		failText(c, http.StatusForbidden, msg)
	default:
		fail(c, http.StatusForbidden, "%s", msg)
	}
	return false
}
