package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/models"
)

type credentialBody struct {
	Name           string         `json:"name"`
	CredentialName string         `json:"credentialName"`
	PlainDataObj   map[string]any `json:"plainDataObj"`
}

// credentialView is a credential as clients see it: never the encrypted data; the decrypted
// fields only on GET by id, with password fields blanked.
type credentialView struct {
	models.Credential
	PlainDataObj map[string]any `json:"plainDataObj,omitempty"`
}

func (s *Server) createCredential(c *gin.Context) {
	var b credentialBody
	if !bindJSON(c, &b) {
		return
	}
	if strings.TrimSpace(b.Name) == "" || b.CredentialName == "" {
		fail(c, http.StatusBadRequest, "name and credentialName are required")
		return
	}
	enc, err := s.cipher.Encrypt(b.PlainDataObj)
	if err != nil {
		s.failErr(c, "Credential", err)
		return
	}
	keyID := s.cipher.KeyID()
	cred := &models.Credential{ID: uuid.NewString(), Name: b.Name, CredentialName: b.CredentialName, EncryptedData: enc, KeyID: &keyID}
	if err := s.store.CreateCredential(c, cred); err != nil {
		s.failErr(c, "Credential", err)
		return
	}
	c.JSON(http.StatusOK, credentialView{Credential: *cred})
}

// listCredentials accepts ?credentialName=a or repeated ?credentialName=a&credentialName=b.
func (s *Server) listCredentials(c *gin.Context) {
	creds, err := s.store.ListCredentials(c, c.QueryArray("credentialName"))
	if err != nil {
		s.failErr(c, "Credentials", err)
		return
	}
	out := make([]credentialView, len(creds))
	for i, cr := range creds {
		out[i] = credentialView{Credential: cr}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getCredential(c *gin.Context) {
	cred, err := s.store.GetCredential(c, c.Param("id"))
	if err != nil {
		s.failErr(c, "Credential", err)
		return
	}
	plain, err := s.cipher.Decrypt(cred.EncryptedData)
	if err != nil {
		fail(c, http.StatusInternalServerError, "Credential %s could not be decrypted: the encryption key does not match", cred.ID)
		return
	}
	view := credentialView{Credential: *cred, PlainDataObj: secrets.Redact(plain, secrets.PasswordFields(cred.CredentialName))}
	c.JSON(http.StatusOK, view)
}

// updateCredential merges the incoming fields over the stored ones; a blanked password field
// sent back unchanged keeps its stored value.
func (s *Server) updateCredential(c *gin.Context) {
	cred, err := s.store.GetCredential(c, c.Param("id"))
	if err != nil {
		s.failErr(c, "Credential", err)
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
		old, err := s.cipher.Decrypt(cred.EncryptedData)
		if err != nil {
			fail(c, http.StatusInternalServerError, "Credential %s could not be decrypted: the encryption key does not match", cred.ID)
			return
		}
		enc, err := s.cipher.Encrypt(secrets.MergeUpdate(old, b.PlainDataObj))
		if err != nil {
			s.failErr(c, "Credential", err)
			return
		}
		keyID := s.cipher.KeyID()
		cred.EncryptedData, cred.KeyID = enc, &keyID
	}
	if err := s.store.UpdateCredential(c, cred); err != nil {
		s.failErr(c, "Credential", err)
		return
	}
	c.JSON(http.StatusOK, credentialView{Credential: *cred})
}

func (s *Server) deleteCredential(c *gin.Context) {
	if err := s.store.DeleteCredential(c, c.Param("id")); err != nil {
		s.failErr(c, "Credential", err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"raw": []any{}, "affected": 1})
}
