package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
)

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
func (s *Server) verify(c *gin.Context) (apikeys.Key, bool) {
	key, ok, err := s.keys.Verify(c, bearer(c))
	if err != nil {
		s.failErr(c, "API key", err)
		return apikeys.Key{}, false
	}
	if !ok {
		fail(c, http.StatusUnauthorized, "Unauthorized")
		return apikeys.Key{}, false
	}
	return key, true
}

// requireKey guards management routes: any valid key (Flowise 2.x semantics).
func (s *Server) requireKey(c *gin.Context) {
	if _, ok := s.verify(c); ok {
		c.Next()
	}
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

func (s *Server) listKeys(c *gin.Context) {
	keys, err := s.keys.List(c)
	if err != nil {
		s.failErr(c, "API keys", err)
		return
	}
	out := make([]keyView, len(keys))
	for i, k := range keys {
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

func (s *Server) createKey(c *gin.Context) {
	name, ok := keyName(c)
	if !ok {
		return
	}
	k, plaintext, err := s.keys.Create(c, name)
	if err != nil {
		s.failErr(c, "API key", err)
		return
	}
	c.JSON(http.StatusOK, view(k, plaintext))
}

func (s *Server) renameKey(c *gin.Context) {
	name, ok := keyName(c)
	if !ok {
		return
	}
	if err := s.keys.Rename(c, c.Param("id"), name); err != nil {
		s.keyErr(c, err)
		return
	}
	s.listKeys(c)
}

func (s *Server) deleteKey(c *gin.Context) {
	if err := s.keys.Delete(c, c.Param("id")); err != nil {
		s.keyErr(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}

func (s *Server) keyErr(c *gin.Context, err error) {
	if errors.Is(err, apikeys.ErrNotFound) {
		fail(c, http.StatusNotFound, "API key %s not found", c.Param("id"))
		return
	}
	s.failErr(c, "API key", err)
}

// verifyKey answers "OK" for a valid key, 401 otherwise.
func (s *Server) verifyKey(c *gin.Context) {
	_, ok, err := s.keys.Verify(c, c.Param("key"))
	if err != nil {
		s.failErr(c, "API key", err)
		return
	}
	if !ok {
		fail(c, http.StatusUnauthorized, "Unauthorized")
		return
	}
	c.JSON(http.StatusOK, "OK")
}
