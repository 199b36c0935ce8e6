package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
)

// keys serves the API keys: their management and their verification.
type keys struct {
	store apikeys.Store
	log   *slog.Logger
}

func (h *keys) routes(open, v1 *gin.RouterGroup) {
	open.GET("/verify/apikey/:key", h.verify)
	v1.GET("/apikey", h.list)
	v1.POST("/apikey", h.create)
	v1.PUT("/apikey/:id", h.rename)
	v1.DELETE("/apikey/:id", h.delete)
}

// keyView is a key as listed: never its secret, and the plaintext only once, at creation.
type keyView struct {
	ID        string `json:"id"`
	KeyName   string `json:"keyName"`
	APIKey    string `json:"apiKey"`
	CreatedAt string `json:"createdAt"`
}

func view(k apikeys.Key, plaintext string) keyView {
	shown := plaintext
	if shown == "" {
		shown = k.Prefix + "…"
	}
	return keyView{ID: k.ID, KeyName: k.Name, APIKey: shown, CreatedAt: k.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")}
}

func (h *keys) list(c *gin.Context) {
	all, err := h.store.List(c)
	if err != nil {
		failErr(c, h.log, "API keys", err)
		return
	}
	out := make([]keyView, len(all))
	for i, k := range all {
		out[i] = view(k, "")
	}
	c.JSON(http.StatusOK, out)
}

// keyName reads {keyName} from the body; on failure it has answered 400 or 413.
func keyName(c *gin.Context) (string, bool) {
	var b struct {
		KeyName string `json:"keyName"`
	}
	if !bindJSON(c, &b) {
		return "", false
	}
	if strings.TrimSpace(b.KeyName) == "" {
		fail(c, http.StatusBadRequest, "keyName is required")
		return "", false
	}
	return b.KeyName, true
}

func (h *keys) create(c *gin.Context) {
	name, ok := keyName(c)
	if !ok {
		return
	}
	k, plaintext, err := h.store.Create(c, name)
	if err != nil {
		failErr(c, h.log, "API key", err)
		return
	}
	c.JSON(http.StatusOK, view(k, plaintext))
}

// rename answers with every key, as Flowise does.
func (h *keys) rename(c *gin.Context) {
	name, ok := keyName(c)
	if !ok {
		return
	}
	if err := h.store.Rename(c, c.Param("id"), name); err != nil {
		h.failKey(c, err)
		return
	}
	h.list(c)
}

func (h *keys) delete(c *gin.Context) {
	if err := h.store.Delete(c, c.Param("id")); err != nil {
		h.failKey(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}

// failKey maps a key store error, whose not-found error is its own.
func (h *keys) failKey(c *gin.Context, err error) {
	if errors.Is(err, apikeys.ErrNotFound) {
		fail(c, http.StatusNotFound, "API key %s not found", c.Param("id"))
		return
	}
	failErr(c, h.log, "API key", err)
}

// verify answers "OK" for a valid key, 401 otherwise.
func (h *keys) verify(c *gin.Context) {
	_, ok, err := h.store.Verify(c, c.Param("key"))
	if err != nil {
		failErr(c, h.log, "API key", err)
		return
	}
	if !ok {
		fail(c, http.StatusUnauthorized, "Unauthorized")
		return
	}
	c.JSON(http.StatusOK, "OK")
}
