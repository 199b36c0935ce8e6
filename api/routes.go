package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Every route of Flowise 3.1's API is a row of flowiseRoutes, the one list of what Flowgate
// answers: the routes it offers (their handlers live with their resources, and
// TestRouteTableMatchesTheServer holds the two together) and, for the others, why not. Those
// answer 501 in Flowise's error shape, so a client learns it reached a Flowise API that lacks
// the route rather than a wrong address. The README's route table is made from it
// (TestREADMEListsEveryFlowiseRoute), and it tells CORS which routes the chat widget calls.

// access is who may call a route Flowgate offers.
type access int

const (
	// byKey routes need a valid API key (Flowise's management API).
	byKey access = iota
	// open routes need no key, though a chatflow bound to a key still asks for it.
	open
	// widget routes are open routes Flowise's chat widget calls from other sites' pages: any
	// origin may call them, unless the chatflow's chatbotConfig.allowedOrigins says otherwise.
	widget
)

// flowiseRoute is one route of Flowise's API.
type flowiseRoute struct {
	method string
	path   string // below /api/v1, in gin's syntax
	access access
	// missing says why Flowgate does not offer the route; "" when it does.
	missing string
}

// Why Flowgate leaves routes out; each is the end of a 501's message.
const (
	editorOnly     = "it serves Flowise's visual editor (node catalogue, icons, templates, canvas helpers), which Flowgate does not have"
	internalChat   = "it is the Flowise editor's own chat; clients use POST /api/v1/prediction/{id}"
	enterprise     = "users, organizations, workspaces, roles, SSO, logs, files and billing belong to Flowise's enterprise and cloud editions; Flowgate has one tenant and authenticates with API keys"
	assistants     = "OpenAI Assistants are not supported"
	evaluations    = "datasets, evaluations and evaluators are not supported"
	speech         = "text to speech is not supported"
	nim            = "NVIDIA NIM containers are not managed by Flowgate"
	oauth2         = "OAuth 2 credentials are not supported"
	realtime       = "OpenAI Realtime agent tools are not supported"
	upsertHistory  = "upserts are Temporal runs (workflow type vectorUpsert), listed in Temporal's UI; Flowgate keeps no upsert history"
	docstoreSteps  = "documents go into a store in one call (POST /api/v1/document-store/upsert/{id}); the editor's step-by-step loader, chunk and vector store routes are not offered"
	executionEdits = "executions record Temporal runs; they are listed and read, not edited, deleted or shared"
	messageExport  = "exporting one chatflow's messages as a file is not offered; GET /api/v1/chatmessage/{id} lists them"
	stats          = "chat statistics are not offered; GET /api/v1/chatmessage/{id} and GET /api/v1/feedback/{id} list what they count"
)

// flowiseRoutes follows the order of Flowise's routes/index.js, a resource's routes with the
// same answer together. A route Flowise declares with
// and without its id ('/' and '/:id') is listed once, with the id, when the form without only
// answers "id not provided".
var flowiseRoutes = []flowiseRoute{
	{"GET", "/ping", open, ""},
	{"POST", "/apikey", byKey, ""},
	{"GET", "/apikey", byKey, ""},
	{"PUT", "/apikey/:id", byKey, ""},
	{"DELETE", "/apikey/:id", byKey, ""},
	{"POST", "/assistants", byKey, assistants},
	{"GET", "/assistants", byKey, assistants},
	{"GET", "/assistants/:id", byKey, assistants},
	{"PUT", "/assistants/:id", byKey, assistants},
	{"DELETE", "/assistants/:id", byKey, assistants},
	{"GET", "/assistants/components/chatmodels", byKey, assistants},
	{"GET", "/assistants/components/docstores", byKey, assistants},
	{"GET", "/assistants/components/tools", byKey, assistants},
	{"POST", "/assistants/generate/instruction", byKey, assistants},
	{"POST", "/attachments/:id/:chatId", widget, ""},
	{"POST", "/chatflows", byKey, ""},
	{"GET", "/chatflows", byKey, ""},
	{"GET", "/chatflows/:id", byKey, ""},
	{"PUT", "/chatflows/:id", byKey, ""},
	{"DELETE", "/chatflows/:id", byKey, ""},
	{"GET", "/chatflows/apikey/:apikey", open, ""},
	{"GET", "/chatflows/has-changed/:id/:lastUpdatedDateTime", byKey, editorOnly},
	{"GET", "/chatflows-streaming/:id", widget, ""},
	{"GET", "/chatmessage/:id", byKey, ""},
	{"DELETE", "/chatmessage/:id", byKey, ""},
	{"PUT", "/chatmessage/abort/:id/:chatId", widget, ""},
	{"POST", "/chatmessage/:id", byKey, internalChat},
	{"GET", "/chatflows-uploads/:id", open, ""},
	{"GET", "/components-credentials", byKey, editorOnly},
	{"GET", "/components-credentials/:name", byKey, editorOnly},
	{"GET", "/components-credentials-icon/:name", open, editorOnly},
	{"POST", "/credentials", byKey, ""},
	{"GET", "/credentials", byKey, ""},
	{"GET", "/credentials/:id", byKey, ""},
	{"PUT", "/credentials/:id", byKey, ""},
	{"DELETE", "/credentials/:id", byKey, ""},
	{"GET", "/datasets", byKey, evaluations},
	{"GET", "/datasets/set", byKey, evaluations},
	{"GET", "/datasets/set/:id", byKey, evaluations},
	{"POST", "/datasets/set", byKey, evaluations},
	{"POST", "/datasets/set/:id", byKey, evaluations},
	{"PUT", "/datasets/set", byKey, evaluations},
	{"PUT", "/datasets/set/:id", byKey, evaluations},
	{"DELETE", "/datasets/set", byKey, evaluations},
	{"DELETE", "/datasets/set/:id", byKey, evaluations},
	{"POST", "/datasets/rows", byKey, evaluations},
	{"POST", "/datasets/rows/:id", byKey, evaluations},
	{"PUT", "/datasets/rows", byKey, evaluations},
	{"PUT", "/datasets/rows/:id", byKey, evaluations},
	{"DELETE", "/datasets/rows", byKey, evaluations},
	{"DELETE", "/datasets/rows/:id", byKey, evaluations},
	{"PATCH", "/datasets/rows", byKey, evaluations},
	{"POST", "/datasets/reorder", byKey, evaluations},
	{"POST", "/document-store/store", byKey, ""},
	{"GET", "/document-store/store", byKey, ""},
	{"GET", "/document-store/store/:id", byKey, ""},
	{"PUT", "/document-store/store/:id", byKey, ""},
	{"DELETE", "/document-store/store/:id", byKey, ""},
	{"POST", "/document-store/upsert/:id", byKey, ""},
	{"POST", "/document-store/vectorstore/query", byKey, ""},
	{"POST", "/document-store/refresh/:id", byKey, docstoreSteps},
	{"GET", "/document-store/store-configs/:id/:loaderId", byKey, docstoreSteps},
	{"GET", "/document-store/components/loaders", byKey, docstoreSteps},
	{"DELETE", "/document-store/loader/:id/:loaderId", byKey, docstoreSteps},
	{"POST", "/document-store/loader/preview", byKey, docstoreSteps},
	{"POST", "/document-store/loader/save", byKey, docstoreSteps},
	{"POST", "/document-store/loader/process/:loaderId", byKey, docstoreSteps},
	{"DELETE", "/document-store/chunks/:storeId/:loaderId/:chunkId", byKey, docstoreSteps},
	{"PUT", "/document-store/chunks/:storeId/:loaderId/:chunkId", byKey, docstoreSteps},
	{"GET", "/document-store/chunks/:storeId/:fileId/:pageNo", byKey, docstoreSteps},
	{"POST", "/document-store/vectorstore/insert", byKey, docstoreSteps},
	{"POST", "/document-store/vectorstore/save", byKey, docstoreSteps},
	{"DELETE", "/document-store/vectorstore/:storeId", byKey, docstoreSteps},
	{"GET", "/document-store/components/embeddings", byKey, docstoreSteps},
	{"GET", "/document-store/components/vectorstore", byKey, docstoreSteps},
	{"GET", "/document-store/components/recordmanager", byKey, docstoreSteps},
	{"POST", "/document-store/vectorstore/update", byKey, docstoreSteps},
	{"POST", "/document-store/generate-tool-desc/:id", byKey, docstoreSteps},
	{"GET", "/evaluations", byKey, evaluations},
	{"GET", "/evaluations/:id", byKey, evaluations},
	{"DELETE", "/evaluations/:id", byKey, evaluations},
	{"POST", "/evaluations", byKey, evaluations},
	{"GET", "/evaluations/is-outdated/:id", byKey, evaluations},
	{"POST", "/evaluations/run-again/:id", byKey, evaluations},
	{"GET", "/evaluations/versions/:id", byKey, evaluations},
	{"PATCH", "/evaluations", byKey, evaluations},
	{"GET", "/evaluators", byKey, evaluations},
	{"GET", "/evaluators/:id", byKey, evaluations},
	{"POST", "/evaluators", byKey, evaluations},
	{"PUT", "/evaluators/:id", byKey, evaluations},
	{"DELETE", "/evaluators/:id", byKey, evaluations},
	{"POST", "/export-import/export", byKey, ""},
	{"POST", "/export-import/chatflow-messages", byKey, messageExport},
	{"POST", "/export-import/import", byKey, ""},
	{"POST", "/feedback", widget, ""},
	{"POST", "/feedback/:id", widget, ""},
	{"PUT", "/feedback/:id", widget, ""},
	{"GET", "/feedback/:id", byKey, ""},
	{"GET", "/fetch-links", byKey, editorOnly},
	{"GET", "/flow-config/:id", byKey, editorOnly},
	{"GET", "/internal-chatmessage/:id", byKey, internalChat},
	{"POST", "/internal-prediction/:id", byKey, internalChat},
	{"GET", "/get-upload-file", widget, ""},
	{"POST", "/leads", widget, ""},
	{"POST", "/leads/", widget, ""},
	{"GET", "/leads/:id", byKey, ""},
	{"POST", "/load-prompt", byKey, editorOnly},
	{"GET", "/marketplaces/templates", byKey, editorOnly},
	{"POST", "/marketplaces/custom", byKey, editorOnly},
	{"GET", "/marketplaces/custom", byKey, editorOnly},
	{"DELETE", "/marketplaces/custom/:id", byKey, editorOnly},
	{"POST", "/node-config", byKey, editorOnly},
	{"POST", "/node-custom-function", byKey, editorOnly},
	{"GET", "/node-icon/:name", open, editorOnly},
	{"POST", "/node-load-method/:name", byKey, editorOnly},
	{"GET", "/nodes", byKey, editorOnly},
	{"GET", "/nodes/:name", byKey, editorOnly},
	{"GET", "/nodes/category/:name", byKey, editorOnly},
	{"POST", "/oauth2-credential/authorize/:credentialId", byKey, oauth2},
	{"GET", "/oauth2-credential/callback", open, oauth2},
	{"POST", "/oauth2-credential/refresh/:credentialId", open, oauth2},
	{"GET", "/openai-assistants", byKey, assistants},
	{"GET", "/openai-assistants/:id", byKey, assistants},
	{"POST", "/openai-assistants-file/download", open, assistants},
	{"POST", "/openai-assistants-file/upload", byKey, assistants},
	{"POST", "/openai-assistants-vector-store", byKey, assistants},
	{"GET", "/openai-assistants-vector-store", byKey, assistants},
	{"GET", "/openai-assistants-vector-store/:id", byKey, assistants},
	{"PUT", "/openai-assistants-vector-store/:id", byKey, assistants},
	{"DELETE", "/openai-assistants-vector-store/:id", byKey, assistants},
	{"POST", "/openai-assistants-vector-store/:id", byKey, assistants},
	{"PATCH", "/openai-assistants-vector-store/:id", byKey, assistants},
	{"GET", "/openai-realtime/:id", byKey, realtime},
	{"POST", "/openai-realtime/:id", byKey, realtime},
	{"POST", "/prediction/:id", widget, ""},
	{"POST", "/prompts-list", byKey, editorOnly},
	{"GET", "/public-chatbotConfig/:id", widget, ""},
	{"GET", "/public-chatflows/:id", open, ""},
	{"GET", "/public-executions/:id", open, executionEdits},
	{"GET", "/stats/:id", byKey, stats},
	{"POST", "/tools", byKey, ""},
	{"GET", "/tools", byKey, ""},
	{"GET", "/tools/:id", byKey, ""},
	{"PUT", "/tools/:id", byKey, ""},
	{"DELETE", "/tools/:id", byKey, ""},
	{"POST", "/variables", byKey, ""},
	{"GET", "/variables", byKey, ""},
	{"PUT", "/variables/:id", byKey, ""},
	{"DELETE", "/variables/:id", byKey, ""},
	{"POST", "/vector/upsert/:id", byKey, ""},
	{"POST", "/vector/internal-upsert/:id", byKey, ""},
	{"GET", "/verify/apikey/:key", open, ""},
	{"GET", "/version", open, ""},
	{"GET", "/upsert-history/:id", byKey, upsertHistory},
	{"PATCH", "/upsert-history", byKey, upsertHistory},
	{"GET", "/settings", open, editorOnly},
	{"GET", "/pricing", open, enterprise},
	{"GET", "/nvidia-nim/preload", byKey, nim},
	{"GET", "/nvidia-nim/get-token", byKey, nim},
	{"GET", "/nvidia-nim/download-installer", byKey, nim},
	{"GET", "/nvidia-nim/list-running-containers", byKey, nim},
	{"POST", "/nvidia-nim/pull-image", byKey, nim},
	{"POST", "/nvidia-nim/start-container", byKey, nim},
	{"POST", "/nvidia-nim/stop-container", byKey, nim},
	{"POST", "/nvidia-nim/get-image", byKey, nim},
	{"POST", "/nvidia-nim/get-container", byKey, nim},
	{"GET", "/executions", byKey, ""},
	{"GET", "/executions/:id", byKey, ""},
	{"PUT", "/executions/:id", byKey, executionEdits},
	{"DELETE", "/executions/:id", byKey, executionEdits},
	{"DELETE", "/executions", byKey, executionEdits},
	{"GET", "/validation/:id", byKey, editorOnly},
	{"POST", "/agentflowv2-generator/generate", byKey, editorOnly},
	{"POST", "/text-to-speech/generate", open, speech},
	{"POST", "/text-to-speech/abort", open, speech},
	{"GET", "/text-to-speech/voices", byKey, speech},
	{"GET", "/auth/sso-success", open, enterprise},
	{"GET", "/auth/:type", byKey, enterprise},
	{"GET", "/auth/permissions/:type", byKey, enterprise},
	{"POST", "/auth/resolve", open, enterprise},
	{"POST", "/auth/login", open, enterprise},
	{"POST", "/auth/refreshToken", open, enterprise},
	{"POST", "/audit", byKey, enterprise},
	{"POST", "/audit/login-activity", byKey, enterprise},
	{"GET", "/user", byKey, enterprise},
	{"GET", "/user/test", open, enterprise},
	{"POST", "/user", byKey, enterprise},
	{"PUT", "/user", byKey, enterprise},
	{"GET", "/organization", byKey, enterprise},
	{"POST", "/organization", byKey, enterprise},
	{"PUT", "/organization", byKey, enterprise},
	{"GET", "/organization/additional-seats-quantity", byKey, enterprise},
	{"GET", "/organization/customer-default-source", byKey, enterprise},
	{"GET", "/organization/additional-seats-proration", byKey, enterprise},
	{"POST", "/organization/update-additional-seats", byKey, enterprise},
	{"GET", "/organization/plan-proration", byKey, enterprise},
	{"POST", "/organization/update-subscription-plan", byKey, enterprise},
	{"GET", "/organization/get-current-usage", byKey, enterprise},
	{"GET", "/role", byKey, enterprise},
	{"POST", "/role", byKey, enterprise},
	{"PUT", "/role", byKey, enterprise},
	{"DELETE", "/role", byKey, enterprise},
	{"GET", "/organizationuser", byKey, enterprise},
	{"POST", "/organizationuser", byKey, enterprise},
	{"PUT", "/organizationuser", byKey, enterprise},
	{"DELETE", "/organizationuser", byKey, enterprise},
	{"GET", "/workspace", byKey, enterprise},
	{"POST", "/workspace", byKey, enterprise},
	{"POST", "/workspace/switch", byKey, enterprise},
	{"PUT", "/workspace", byKey, enterprise},
	{"DELETE", "/workspace", byKey, enterprise},
	{"DELETE", "/workspace/:id", byKey, enterprise},
	{"GET", "/workspace/shared", byKey, enterprise},
	{"GET", "/workspace/shared/:id", byKey, enterprise},
	{"POST", "/workspace/shared", byKey, enterprise},
	{"POST", "/workspace/shared/:id", byKey, enterprise},
	{"GET", "/workspaceuser", byKey, enterprise},
	{"POST", "/workspaceuser", byKey, enterprise},
	{"PUT", "/workspaceuser", byKey, enterprise},
	{"DELETE", "/workspaceuser", byKey, enterprise},
	{"POST", "/account/register", open, enterprise},
	{"POST", "/account/invite", byKey, enterprise},
	{"POST", "/account/login", open, enterprise},
	{"POST", "/account/logout", open, enterprise},
	{"POST", "/account/verify", open, enterprise},
	{"POST", "/account/confirm-email-change", open, enterprise},
	{"POST", "/account/resend-verification", open, enterprise},
	{"POST", "/account/forgot-password", open, enterprise},
	{"POST", "/account/reset-password", open, enterprise},
	{"POST", "/account/billing", byKey, enterprise},
	{"DELETE", "/account/delete", byKey, enterprise},
	{"GET", "/loginmethod", byKey, enterprise},
	{"GET", "/loginmethod/default", open, enterprise},
	{"POST", "/loginmethod", byKey, enterprise},
	{"PUT", "/loginmethod", byKey, enterprise},
	{"POST", "/loginmethod/test", byKey, enterprise},
	{"GET", "/logs", byKey, enterprise},
	{"GET", "/files", byKey, enterprise},
	{"DELETE", "/files", byKey, enterprise},
	{"GET", "/azure/login", open, enterprise},
	{"GET", "/azure/callback", open, enterprise},
	{"GET", "/google/login", open, enterprise},
	{"GET", "/google/callback", open, enterprise},
	{"GET", "/auth0/login", open, enterprise},
	{"GET", "/auth0/callback", open, enterprise},
	{"GET", "/github/login", open, enterprise},
	{"GET", "/github/callback", open, enterprise},
	{"GET", "/ip", open, ""},
	// Flowise serves its metrics behind its API key check (the route is not on its whitelist).
	{"GET", "/metrics", byKey, ""},
}

// routeCatalogue finds the rows of a table by method and route pattern.
type routeCatalogue struct {
	rows   []flowiseRoute
	byPath map[string][]int // by pattern shape (see shape)
}

func newRouteCatalogue(rows []flowiseRoute) *routeCatalogue {
	rc := &routeCatalogue{rows: rows, byPath: map[string][]int{}}
	for i, r := range rows {
		rc.byPath[shape(r.path)] = append(rc.byPath[shape(r.path)], i)
	}
	return rc
}

// shape is a pattern with its parameters unnamed ("/feedback/:"), so routes that differ only
// in their parameters' names are one path to a router. fullPath may carry the /api/v1 prefix.
func shape(fullPath string) string {
	segs := strings.Split(strings.TrimPrefix(fullPath, apiPrefix), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = ":"
		}
	}
	return strings.Join(segs, "/")
}

// optionsPattern is a path shape as gin can route it: a parameter named by its position, so
// every path's parameters agree with every other's at the same place.
func optionsPattern(path string) string {
	segs := strings.Split(shape(path), "/")
	for i, s := range segs {
		if s == ":" {
			segs[i] = fmt.Sprintf(":p%d", i)
		}
	}
	return apiPrefix + strings.Join(segs, "/")
}

// find is the row of method on the route fullPath matched (nil when there is none).
func (rc *routeCatalogue) find(method, fullPath string) *flowiseRoute {
	for _, i := range rc.byPath[shape(fullPath)] {
		if rc.rows[i].method == method {
			return &rc.rows[i]
		}
	}
	return nil
}

// methods are the methods the path fullPath matched takes, OPTIONS last.
func (rc *routeCatalogue) methods(fullPath string) []string {
	var out []string
	for _, i := range rc.byPath[shape(fullPath)] {
		out = append(out, rc.rows[i].method)
	}
	return append(out, http.MethodOptions)
}

const apiPrefix = "/api/v1"

// register routes what the table says Flowgate does not offer to a 501 naming the route, and
// every path of the table to the CORS preflight.
func (rc *routeCatalogue) register(r *gin.Engine, preflight gin.HandlerFunc) {
	var paths []string
	for _, route := range rc.rows {
		if route.missing != "" {
			r.Handle(route.method, apiPrefix+route.path, notOffered(route))
		}
		if p := optionsPattern(route.path); !slices.Contains(paths, p) {
			paths = append(paths, p)
			r.OPTIONS(p, preflight)
		}
	}
}

// notOffered answers a route Flowgate leaves out.
func notOffered(route flowiseRoute) gin.HandlerFunc {
	return func(c *gin.Context) {
		fail(c, http.StatusNotImplemented, "Flowgate does not offer %s %s: %s", route.method, readablePath(route.path), route.missing)
	}
}

// readablePath writes a pattern as the docs do: /api/v1/feedback/{id}.
func readablePath(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return apiPrefix + strings.Join(segs, "/")
}

// markdown is the README's table of every Flowise route; neighbouring routes with the same
// answer share a row.
func (rc *routeCatalogue) markdown() string {
	var b strings.Builder
	b.WriteString("| Flowise routes (below `/api/v1`) | Flowgate answers |\n|---|---|\n")
	var routes []string
	for i, r := range rc.rows {
		routes = append(routes, "`"+r.method+" "+strings.TrimPrefix(readablePath(r.path), apiPrefix)+"`")
		if i+1 == len(rc.rows) || answerOf(rc.rows[i+1]) != answerOf(r) {
			fmt.Fprintf(&b, "| %s | %s |\n", strings.Join(routes, ", "), answerOf(r))
			routes = nil
		}
	}
	return b.String()
}

// answerOf says in words what Flowgate answers to a route.
func answerOf(r flowiseRoute) string {
	switch {
	case r.missing != "":
		return "501: " + r.missing
	case r.access == byKey:
		return "works; API key"
	case r.access == widget:
		return "works; open to pages of any site unless the chatflow's `allowedOrigins` narrow them"
	default:
		return "works; open"
	}
}
