package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/platform/config"
)

// managementRoutes are every route that needs a valid key.
var managementRoutes = [][2]string{
	{"GET", "/api/v1/chatflows"}, {"POST", "/api/v1/chatflows"}, {"GET", "/api/v1/chatflows/x"},
	{"PUT", "/api/v1/chatflows/x"}, {"DELETE", "/api/v1/chatflows/x"},
	{"GET", "/api/v1/credentials"}, {"POST", "/api/v1/credentials"}, {"GET", "/api/v1/credentials/x"},
	{"PUT", "/api/v1/credentials/x"}, {"DELETE", "/api/v1/credentials/x"},
	{"GET", "/api/v1/variables"}, {"POST", "/api/v1/variables"}, {"PUT", "/api/v1/variables/x"},
	{"DELETE", "/api/v1/variables/x"},
	{"GET", "/api/v1/apikey"}, {"POST", "/api/v1/apikey"}, {"PUT", "/api/v1/apikey/x"}, {"DELETE", "/api/v1/apikey/x"},
	{"GET", "/api/v1/chatmessage/x"}, {"DELETE", "/api/v1/chatmessage/x"},
	{"GET", "/api/v1/executions"}, {"GET", "/api/v1/executions/x"},
}

func requireRejected(t *testing.T, h *harness, key string) {
	t.Helper()
	as := *h
	as.key = key
	for _, r := range managementRoutes {
		status, body := as.do(r[0], r[1], map[string]any{})
		requireFlowiseError(t, status, body, 401, "Unauthorized")
	}
}

func TestAPIKeys(t *testing.T) {
	h := newHarness(t)
	requireRejected(t, h, "")
	requireRejected(t, h, "not-a-key")

	var created struct {
		ID, KeyName, APIKey string
	}
	h.doJSON("POST", "/api/v1/apikey", map[string]any{"keyName": "ci"}, 200, &created)
	require.Len(t, created.APIKey, 43, "the new key is shown once, in full")
	status, _ := h.do("GET", "/api/v1/verify/apikey/"+created.APIKey, nil)
	require.Equal(t, 200, status)
	status, body := h.do("GET", "/api/v1/verify/apikey/nope", nil)
	requireFlowiseError(t, status, body, 401, "Unauthorized")

	var list []map[string]any
	h.doJSON("PUT", "/api/v1/apikey/"+created.ID, map[string]any{"keyName": "ci-renamed"}, 200, &list)
	require.Contains(t, fmt.Sprint(list), "ci-renamed")
	status, body = h.do("PUT", "/api/v1/apikey/"+created.ID, map[string]any{"keyName": " "})
	requireFlowiseError(t, status, body, 400, "keyName is required")
	h.doJSON("GET", "/api/v1/apikey", nil, 200, &list)
	raw, _ := json.Marshal(list)
	require.NotContains(t, string(raw), created.APIKey, "listing never shows a whole key")
	require.NotContains(t, string(raw), "apiSecret")

	// A chatflow bound to the new key runs only with it.
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	bound := h.createFlow("bound", h.loadFlow("llm-chain.json", cred), map[string]any{"apikeyid": created.ID})
	anon := *h
	anon.key = ""
	status, body = anon.do("POST", "/api/v1/prediction/"+bound, map[string]any{"question": "hi"})
	requireFlowiseError(t, status, body, 401, "Unauthorized")
	status, body = h.do("POST", "/api/v1/prediction/"+bound, map[string]any{"question": "hi"})
	requireFlowiseError(t, status, body, 401, "Unauthorized") // a valid key, but not the bound one
	withBound := *h
	withBound.key = created.APIKey
	withBound.predict(bound, map[string]any{"question": "hi"})

	// Revoked: rejected everywhere at once.
	h.doJSON("DELETE", "/api/v1/apikey/"+created.ID, nil, 200, nil)
	requireRejected(t, h, created.APIKey)
	status, _ = withBound.do("POST", "/api/v1/prediction/"+bound, map[string]any{"question": "hi"})
	require.Equal(t, 401, status)

	// The key file never holds a whole key.
	file, err := os.ReadFile(filepath.Join(h.cfg.APIKeyPath, "api.json"))
	require.NoError(t, err)
	require.NotContains(t, string(file), testKey)
}

// TestAPIKeysSharedInTheDatabase runs two servers on one database with APIKEY_STORAGE_TYPE=db:
// a key made on one works on the other, and revoking it on one revokes it on both. A Flowise
// api.json imports into the store, and its keys then work.
func TestAPIKeysSharedInTheDatabase(t *testing.T) {
	cfg := postgresConfig(t)
	cfg.Mode, cfg.APIKeyStorageType = config.ModeMain, "db"
	// Seed through the Flowise import: the test vector's key, made by a real Flowise.
	vector := fixture.Read(t, "flowise-test-vectors.json")
	var v struct {
		APIKey struct{ APIKey, APISecret string } `json:"apiKey"`
	}
	require.NoError(t, json.Unmarshal(vector, &v))
	file := filepath.Join(t.TempDir(), "api.json")
	entry, err := json.Marshal([]map[string]any{{"keyName": "flowise", "apiKey": v.APIKey.APIKey, "apiSecret": v.APIKey.APISecret, "createdAt": "23-Nov-26", "id": "6f7a2b1c-0000-4000-8000-00000000f10e"}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, entry, 0o600))
	n, err := app.ImportAPIKeys(context.Background(), cfg, file)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	a := startHarness(t, cfg)
	b := startHarness(t, cfg)
	a.key, b.key = v.APIKey.APIKey, v.APIKey.APIKey
	var made struct{ ID, APIKey string }
	a.doJSON("POST", "/api/v1/apikey", map[string]any{"keyName": "shared"}, 200, &made)
	b.key = made.APIKey
	b.doJSON("GET", "/api/v1/chatflows", nil, 200, nil)
	a.doJSON("DELETE", "/api/v1/apikey/"+made.ID, nil, 200, nil)
	requireRejected(t, b, made.APIKey)
}
