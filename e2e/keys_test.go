package e2e

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/models"
)

// TestStartRefusesAKeyThatCannotDecrypt restarts on existing credentials with another key: the
// process refuses to start, naming where the key came from, instead of failing later.
func TestStartRefusesAKeyThatCannotDecrypt(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.SecretKeyOverwrite = "the right key" })
	h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-canary"})
	h.stop()

	wrong := h.cfg
	wrong.SecretKeyOverwrite = "some other key"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := app.Start(ctx, wrong, app.Options{API: true, Worker: true}, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, secrets.ErrWrongKey)
	require.ErrorContains(t, err, "key from FLOWISE_SECRETKEY_OVERWRITE")
	require.NotContains(t, err.Error(), "some other key")

	// The right key starts and decrypts.
	right := startHarness(t, h.cfg)
	var got map[string]any
	var list []map[string]any
	right.doJSON("GET", "/api/v1/credentials", nil, 200, &list)
	require.Len(t, list, 1)
	right.doJSON("GET", "/api/v1/credentials/"+list[0]["id"].(string), nil, 200, &got)
	require.Equal(t, "openAIApi", got["credentialName"])
}

// TestOnlineKeyRotation rotates the credential key while predictions run: the process runs
// with the new key and the previous one, `flowgate secrets rotate` re-encrypts every row, no
// prediction fails, and afterwards the old key can be dropped.
func TestOnlineKeyRotation(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.SecretKeyOverwrite = "old key" })
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-rotate"})
	flowID := h.createFlow("rotate", h.loadFlow("llm-chain.json", cred), nil)
	h.stop()

	// Rolling restart onto the new key, the old one kept for reading.
	both := h.cfg
	both.SecretKeyOverwrite, both.SecretKeyPrevious = "new key", "old key"
	h2 := startHarness(t, both)
	h2.mock = h.mock

	stop := make(chan struct{})
	done := make(chan int)
	failures := make(chan string, 1000)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			resp, err := httpClient.Post(h2.base+"/api/v1/prediction/"+flowID, "application/json",
				strings.NewReader(`{"question":"during rotation"}`))
			if err != nil {
				failures <- err.Error()
			} else {
				if resp.StatusCode != 200 {
					failures <- resp.Status
				}
				resp.Body.Close()
			}
			n++
		}
	}()
	require.Eventually(t, func() bool { return h.mock.Calls() >= 2 }, 20*time.Second, 10*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := app.RotateKeys(ctx, both, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, app.RotationReport{Reencrypted: 1}, rep)
	require.Eventually(t, func() bool { return h.mock.Calls() >= 4 }, 20*time.Second, 10*time.Millisecond)
	close(stop)
	require.Greater(t, <-done, 1, "predictions ran during the rotation")
	require.Empty(t, failures, "no prediction failed")
	again, err := app.RotateKeys(ctx, both, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, app.RotationReport{Current: 1}, again, "a second run has nothing left to do")
	h2.stop()

	// The old key is gone: the new one alone starts and decrypts.
	only := h.cfg
	only.SecretKeyOverwrite = "new key"
	h3 := startHarness(t, only)
	h3.mock = h.mock
	h3.predict(flowID, map[string]any{"question": "after rotation"})
	require.Equal(t, "Bearer sk-rotate", h.mock.Requests()[len(h.mock.Requests())-1].Headers.Get("Authorization"))
}

// TestLostKeyFileAndCorruptCredential: a key file that went missing is replaced by a new key,
// which cannot open the stored credentials, so the process refuses to start and names the file;
// with the right key, one corrupt credential fails only the flows that use it.
func TestLostKeyFileAndCorruptCredential(t *testing.T) {
	h := newHarness(t)
	good := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-good"})
	bad := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-bad"})
	goodFlow := h.createFlow("good", h.loadFlow("llm-chain.json", good), nil)
	badFlow := h.createFlow("bad", h.loadFlow("llm-chain.json", bad), nil)
	h.stop()

	keyFile := filepath.Join(h.cfg.SecretKeyPath, "encryption.key")
	original, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	require.NoError(t, os.Remove(keyFile))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = app.Start(ctx, h.cfg, app.Options{API: true, Worker: true}, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, secrets.ErrWrongKey)
	require.ErrorContains(t, err, "key from file "+keyFile)

	// Put the key back and corrupt one credential's data.
	require.NoError(t, os.WriteFile(keyFile, original, 0o600))
	db, err := models.Open(ctx, h.cfg.Database)
	require.NoError(t, err)
	require.NoError(t, db.Model(&models.Credential{}).Where("id = ?", bad).Update("encryptedData", "fg1:0000:AAAA").Error)
	sqlDB, _ := db.DB()
	sqlDB.Close()

	h2 := startHarness(t, h.cfg)
	h2.mock = h.mock
	status, body := h2.do("POST", "/api/v1/prediction/"+badFlow, map[string]any{"question": "hi"})
	requireFlowiseError(t, status, body, 500, "credential "+bad)
	h2.requireNoMessages(badFlow)
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: hi"), h2.predict(goodFlow, map[string]any{"question": "hi"}).Text)
	status, _ = h2.do("GET", "/api/v1/credentials/"+bad, nil)
	require.Equal(t, 500, status)
}
