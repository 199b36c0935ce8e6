package api

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/models"
)

// auth checks API keys: any valid key for the management routes, a chatflow's bound key for
// the routes that run it.
type auth struct {
	keys apikeys.Store
	// flows is where the chatflows whose bound key guards a route are read.
	flows *models.Store
	log   *slog.Logger
}

// bearer is the API key a request carries, if any.
func bearer(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// verify checks the request's key; on failure it has answered 401 (or 503 when the key store
// cannot be read).
func (a *auth) verify(c *gin.Context) (apikeys.Key, bool) {
	key, ok, err := a.bearerKey(c)
	return a.answer(c, key, ok, err)
}

// verifyKey checks the key plaintext; on failure it has answered as verify does.
func (a *auth) verifyKey(c *gin.Context, plaintext string) (apikeys.Key, bool) {
	key, ok, err := a.keys.Verify(c, plaintext)
	return a.answer(c, key, ok, err)
}

// bearerKeyContext is where a request keeps what its bearer key verified as.
const bearerKeyContext = "flowgate.bearerKey"

type verifiedKey struct {
	key apikeys.Key
	ok  bool
	err error
}

// bearerKey verifies the request's bearer key once per request: the chatflow's bound key, its
// rate limit bucket and an OpenAI request's caller all ask, and each ask would otherwise be
// another look-up in the key store.
func (a *auth) bearerKey(c *gin.Context) (apikeys.Key, bool, error) {
	if v, ok := c.Get(bearerKeyContext); ok {
		r := v.(verifiedKey)
		return r.key, r.ok, r.err
	}
	key, ok, err := a.keys.Verify(c, bearer(c))
	c.Set(bearerKeyContext, verifiedKey{key, ok, err})
	return key, ok, err
}

// answer turns a verification into verify's result; on failure it has answered.
func (a *auth) answer(c *gin.Context, key apikeys.Key, ok bool, err error) (apikeys.Key, bool) {
	if err != nil {
		failErr(c, a.log, "API key", err)
		return apikeys.Key{}, false
	}
	if !ok {
		fail(c, http.StatusUnauthorized, "Unauthorized")
		return apikeys.Key{}, false
	}
	return key, true
}

// requireKey guards management routes: any valid key (Flowise 2.x semantics).
func (a *auth) requireKey(c *gin.Context) {
	if _, ok := a.verify(c); ok {
		c.Next()
	}
}

// verifiedKeyID is the id of the request's API key when it verifies, else "". Only a verified
// key may name a rate limit bucket: a made-up key would otherwise get a fresh one per request.
func (a *auth) verifiedKeyID(c *gin.Context) string {
	if bearer(c) == "" {
		return ""
	}
	key, ok, err := a.bearerKey(c)
	if err != nil || !ok {
		return ""
	}
	return key.ID
}

// authorizeFlow enforces the key bound to a chatflow (apikeyid): only that key may run it. A
// chatflow with no bound key is public, as in Flowise.
func (a *auth) authorizeFlow(c *gin.Context, f *models.ChatFlow) bool {
	if f.APIKeyID == nil || *f.APIKeyID == "" {
		return true
	}
	key, ok := a.verify(c)
	if !ok {
		return false
	}
	if key.ID != *f.APIKeyID {
		fail(c, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	return true
}

// authorizedFlow loads the chatflow named by the id parameter and enforces its bound key; on
// failure it has answered.
func (a *auth) authorizedFlow(c *gin.Context) (*models.ChatFlow, bool) {
	f, ok := a.flow(c, c.Param("id"))
	return f, ok && a.authorizeFlow(c, f)
}

// flow loads the chatflow id; on failure it has answered (404 for an unknown one).
func (a *auth) flow(c *gin.Context, id string) (*models.ChatFlow, bool) {
	f, err := a.flows.GetChatFlow(c, id)
	if err != nil {
		failErrOf(c, a.log, "Chatflow", id, err)
		return nil, false
	}
	return f, true
}

// widgetFlow loads the chatflow id for a route of the chat widget and lets the request on when
// the chatflow takes the page's origin (else 403, as Flowise checks the origin first) and the
// request carries the chatflow's bound key, if it has one. On failure it has answered.
func (a *auth) widgetFlow(c *gin.Context, id string) (*models.ChatFlow, bool) {
	f, ok := a.flow(c, id)
	return f, ok && allowOrigin(c, f, false) && a.authorizeFlow(c, f)
}
