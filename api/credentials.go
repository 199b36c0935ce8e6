package api

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/models"
)

// credentials serves the credentials, stored encrypted.
type credentials struct {
	store  *models.Store
	cipher *secrets.Cipher
	log    *slog.Logger
}

func (h *credentials) routes(_, v1 *gin.RouterGroup) {
	v1.POST("/credentials", h.create)
	v1.GET("/credentials", h.list)
	v1.GET("/credentials/:id", h.get)
	v1.PUT("/credentials/:id", h.update)
	v1.DELETE("/credentials/:id", h.delete)
}

type credentialBody struct {
	Name           string         `json:"name"`
	CredentialName string         `json:"credentialName"`
	PlainDataObj   map[string]any `json:"plainDataObj"`
}

// credentialView is a credential as clients see it: never the encrypted data; the decrypted
// fields only on GET by id, with secret fields blanked (secrets.Redact).
type credentialView struct {
	models.Credential
	PlainDataObj map[string]any `json:"plainDataObj,omitempty"`
}

func (h *credentials) create(c *gin.Context) {
	var b credentialBody
	if !bindJSON(c, &b) {
		return
	}
	if strings.TrimSpace(b.Name) == "" || b.CredentialName == "" {
		fail(c, http.StatusBadRequest, "name and credentialName are required")
		return
	}
	enc, err := h.cipher.Encrypt(b.PlainDataObj)
	if err != nil {
		failErr(c, h.log, "Credential", err)
		return
	}
	keyID := h.cipher.KeyID()
	cred := &models.Credential{ID: uuid.NewString(), Name: b.Name, CredentialName: b.CredentialName, EncryptedData: enc, KeyID: &keyID}
	if err := h.store.CreateCredential(c, cred); err != nil {
		failErr(c, h.log, "Credential", err)
		return
	}
	c.JSON(http.StatusOK, credentialView{Credential: *cred})
}

// list accepts ?credentialName=a or repeated ?credentialName=a&credentialName=b.
func (h *credentials) list(c *gin.Context) {
	creds, err := h.store.ListCredentials(c, c.QueryArray("credentialName"))
	if err != nil {
		failErr(c, h.log, "Credentials", err)
		return
	}
	out := make([]credentialView, len(creds))
	for i, cr := range creds {
		out[i] = credentialView{Credential: cr}
	}
	c.JSON(http.StatusOK, out)
}

func (h *credentials) get(c *gin.Context) {
	cred, err := h.store.GetCredential(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Credential", err)
		return
	}
	plain, err := h.cipher.Decrypt(cred.EncryptedData)
	if err != nil {
		fail(c, http.StatusInternalServerError, "Credential %s could not be decrypted: the encryption key does not match", cred.ID)
		return
	}
	view := credentialView{Credential: *cred, PlainDataObj: secrets.Redact(cred.CredentialName, plain)}
	c.JSON(http.StatusOK, view)
}

// update merges the incoming fields over the stored ones; a blanked secret field
// sent back unchanged keeps its stored value.
func (h *credentials) update(c *gin.Context) {
	cred, err := h.store.GetCredential(c, c.Param("id"))
	if err != nil {
		failErr(c, h.log, "Credential", err)
		return
	}
	var b credentialBody
	if !bindJSON(c, &b) {
		return
	}
	if b.Name != "" {
		cred.Name = b.Name
	}
	if b.PlainDataObj != nil {
		old, err := h.cipher.Decrypt(cred.EncryptedData)
		if err != nil {
			fail(c, http.StatusInternalServerError, "Credential %s could not be decrypted: the encryption key does not match", cred.ID)
			return
		}
		enc, err := h.cipher.Encrypt(secrets.MergeUpdate(old, b.PlainDataObj))
		if err != nil {
			failErr(c, h.log, "Credential", err)
			return
		}
		keyID := h.cipher.KeyID()
		cred.EncryptedData, cred.KeyID = enc, &keyID
	}
	if err := h.store.UpdateCredential(c, cred); err != nil {
		failErr(c, h.log, "Credential", err)
		return
	}
	c.JSON(http.StatusOK, credentialView{Credential: *cred})
}

func (h *credentials) delete(c *gin.Context) {
	if err := h.store.DeleteCredential(c, c.Param("id")); err != nil {
		failErr(c, h.log, "Credential", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}
