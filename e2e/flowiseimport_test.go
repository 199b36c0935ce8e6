package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/flowiseimport"
	"github.com/flowgate/flowgate/internal/testkit/fixture"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/models"
)

// fixtureMockAddr is where the fixture's flows send their model calls: Flowise stored the
// basepath http://127.0.0.1:18900/v1 in them. The test starts the mock there rather than edit
// the flows, so what runs is exactly what Flowise saved.
const fixtureMockAddr = "127.0.0.1:18900"

// fixtureDeployment is one of the two Flowise deployments of testdata/flowise-3.1.2, as
// fixture.json describes it.
type fixtureDeployment struct {
	Encryption struct {
		Passphrase string `json:"passphrase"`
	} `json:"encryption"`
	IDs struct {
		APIKeys map[string]struct {
			ID     string `json:"id"`
			APIKey string `json:"apiKey"`
		} `json:"apiKeys"`
		Chatflows map[string]struct {
			ID string `json:"id"`
		} `json:"chatflows"`
		Agentflow struct {
			ID string `json:"id"`
		} `json:"agentflow"`
	} `json:"ids"`
}

func loadFixtureDeployment(t *testing.T, which string) fixtureDeployment {
	t.Helper()
	var all map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(fixture.Read(t, "flowise-3.1.2", "fixture.json"), &all))
	var d fixtureDeployment
	require.NoError(t, json.Unmarshal(all[which], &d))
	require.Len(t, d.IDs.Chatflows, 3)
	return d
}

// requireMovedIn checks a Flowgate that imported the deployment d: every flow answers through
// its Flowise id with the imported OpenAI credential, and the key-bound flow takes ci-key and
// refuses a call without it.
func requireMovedIn(t *testing.T, h *harness, mock *llmmock.Server, d fixtureDeployment) {
	t.Helper()
	ciKey := d.IDs.APIKeys["ci"].APIKey
	require.NotEmpty(t, ciKey)
	configured := d.IDs.Chatflows["configured"].ID

	ask := func(flowID, bearer string) (int, []byte) {
		body, _ := json.Marshal(map[string]any{"question": "Hello from a moved client"})
		req, err := http.NewRequest("POST", h.base+"/api/v1/prediction/"+flowID, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://acme.example.com")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := httpClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, out
	}

	status, body := ask(configured, "")
	requireFlowiseError(t, status, body, http.StatusUnauthorized, "Unauthorized")
	calls := mock.Calls()
	for name, f := range d.IDs.Chatflows {
		key := ""
		if f.ID == configured {
			key = ciKey
		}
		status, body := ask(f.ID, key)
		require.Equal(t, http.StatusOK, status, "%s: %s", name, body)
		var out predictionAnswer
		require.NoError(t, json.Unmarshal(body, &out))
		require.NotEmpty(t, out.Text, name)
	}
	status, body = ask(d.IDs.Agentflow.ID, "")
	require.Equal(t, http.StatusOK, status, "agentflow: %s", body)
	require.EqualValues(t, calls+4, mock.Calls(), "one model call per flow")
	for _, r := range mock.Requests() {
		require.Equal(t, "Bearer sk-fixture-openai-123", r.Headers.Get("Authorization"), "the imported credential reaches the provider")
	}
}

// restoreFixtureDump loads the PostgreSQL fixture into a fresh database (dropped when the
// test ends) and returns its name.
func restoreFixtureDump(t *testing.T) string {
	t.Helper()
	name := pgtest.NewDatabase(t)
	out, err := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pgtest.Host, "-p", strconv.Itoa(pgtest.Port),
		"-U", pgtest.User, "-d", name, "-f", fixture.Path("flowise-3.1.2", "postgres", "flowise.sql")).CombinedOutput()
	require.NoError(t, err, "restore the Flowise dump: %s", out)
	// A server whose DateStyle is not ISO writes timestamps as text another way ("SQL, DMY":
	// 03/12/2026 18:24:56): the import must read dates the same whatever the setting.
	out, err = exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pgtest.Host, "-p", strconv.Itoa(pgtest.Port),
		"-U", pgtest.User, "-d", name, "-c", `ALTER DATABASE "`+name+`" SET datestyle = 'SQL, DMY'`).CombinedOutput()
	require.NoError(t, err, "set DateStyle: %s", out)
	return name
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

// runImport runs the real `flowgate import` against the Flowgate whose data is in dataDir.
func runImport(t *testing.T, dataDir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(buildFlowgate(t), append([]string{"import"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dataDir, "FLOWGATE_DATA_DIR=" + dataDir, "LOG_LEVEL=error"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestFlowiseImportSQLite moves the SQLite deployment into a running Flowgate with the real
// command, as an operator would.
func TestFlowiseImportSQLite(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{Addr: fixtureMockAddr})
	d := loadFixtureDeployment(t, "sqlite")
	h := newHarness(t)
	flowise := t.TempDir() // Flowise's data folder, as the deployment had it
	for _, f := range []string{"database.sqlite", "encryption.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(flowise, f), fixture.Read(t, "flowise-3.1.2", "sqlite", f), 0o600))
	}
	dbFile := filepath.Join(flowise, "database.sqlite")
	before := fileSum(t, dbFile)
	var flows []map[string]any
	h.doJSON("GET", "/api/v1/chatflows", nil, 200, &flows) // the harness key's first use records its fingerprint
	keysFile := filepath.Join(h.cfg.APIKeyPath, "api.json")
	keysBefore := fileSum(t, keysFile)

	// A wrong key fails before anything is written.
	out, err := runImport(t, h.cfg.DataDir, "--flowise-set", "DATABASE_PATH="+flowise, "--flowise-set", "FLOWISE_SECRETKEY_OVERWRITE=not-the-key", "--messages")
	require.Error(t, err, out)
	require.Contains(t, out, "Flowise's encryption key: the encryption key cannot decrypt the stored credentials")
	h.doJSON("GET", "/api/v1/chatflows", nil, 200, &flows)
	require.Empty(t, flows)
	var creds []map[string]any
	h.doJSON("GET", "/api/v1/credentials", nil, 200, &creds)
	require.Empty(t, creds)
	require.Equal(t, keysBefore, fileSum(t, keysFile), "no API key written")

	// The .env file Flowise ran with names the source.
	env := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(env, []byte("PORT=3300\nDATABASE_PATH="+flowise+"\nSECRETKEY_PATH="+flowise+"\n"), 0o600))
	out, err = runImport(t, h.cfg.DataDir, "--flowise-env", env, "--dry-run")
	require.NoError(t, err, out)
	require.Contains(t, out, "dry run, nothing written")
	h.doJSON("GET", "/api/v1/chatflows", nil, 200, &flows)
	require.Empty(t, flows)

	out, err = runImport(t, h.cfg.DataDir, "--flowise-env", env, "--messages")
	require.NoError(t, err, out)
	t.Logf("first import:\n%s", out)
	for _, line := range []string{
		"chatflows        3 new, 0 updated, 0 unchanged", "agentflows       1 new, 0 updated, 0 unchanged",
		"credentials      4 new", "API keys         2 new", "variables        2 new", "custom tools     1 new",
		"document stores  1 new", "document chunks  3 new", "chat messages    10 new", "feedback         1 new",
		"leads            1 new", "executions       1 new", "30 rows in",
	} {
		require.Contains(t, out, line)
	}
	requireMovedIn(t, h, mock, d)

	// The second run changes nothing and says so.
	out, err = runImport(t, h.cfg.DataDir, "--flowise-env", env, "--messages")
	require.NoError(t, err, out)
	t.Logf("second import:\n%s", out)
	require.Contains(t, out, "nothing to change: all 30 rows are already there")
	require.Contains(t, out, "chat messages    0 new, 0 updated, 10 unchanged")
	require.Equal(t, before, fileSum(t, dbFile), "Flowise's database is only read")
}

// TestFlowiseImportPostgres restores the PostgreSQL deployment and moves it into a Flowgate on
// PostgreSQL whose API keys live in the database.
func TestFlowiseImportPostgres(t *testing.T) {
	mock := llmmock.NewTestServer(t, llmmock.Options{Addr: fixtureMockAddr})
	d := loadFixtureDeployment(t, "postgres")
	src, err := flowiseimport.SourceFromEnv(func(name string) string {
		return map[string]string{"DATABASE_TYPE": "postgres", "DATABASE_HOST": pgtest.Host, "DATABASE_PORT": strconv.Itoa(pgtest.Port),
			"DATABASE_USER": pgtest.User, "DATABASE_NAME": restoreFixtureDump(t),
			"FLOWISE_SECRETKEY_OVERWRITE": string(fixture.Read(t, "flowise-3.1.2", "postgres", "passphrase.txt"))}[name]
	})
	require.NoError(t, err)
	h := newHarness(t, func(cfg *config.Config) {
		cfg.Database = models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: pgtest.NewDatabase(t), User: pgtest.User}
		cfg.APIKeyStorageType = "db"
	})
	// The harness's key is in its JSON file; a database store starts with a DefaultKey.
	h.key = h.app.DefaultKey()
	require.NotEmpty(t, h.key)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	wrong := src
	wrong.Key.Overwrite = "flowise-fixture-passphrase-3.1.3"
	_, err = app.ImportFlowise(ctx, h.cfg, app.FlowiseImport{Source: &wrong, Messages: true}, log)
	require.ErrorContains(t, err, "the encryption key cannot decrypt the stored credentials")
	var flows, creds, keys []map[string]any
	h.doJSON("GET", "/api/v1/chatflows", nil, 200, &flows)
	require.Empty(t, flows)
	h.doJSON("GET", "/api/v1/credentials", nil, 200, &creds)
	require.Empty(t, creds)
	h.doJSON("GET", "/api/v1/apikey", nil, 200, &keys)
	require.Len(t, keys, 1, "the destination is unchanged: only its DefaultKey")

	rep, err := app.ImportFlowise(ctx, h.cfg, app.FlowiseImport{Source: &src, Messages: true}, log)
	require.NoError(t, err)
	t.Logf("first import:\n%s", rep)
	require.Contains(t, rep.String(), "Flowise PostgreSQL database postgres://postgres@127.0.0.1:5432/")
	total := 0
	for _, c := range rep.Counts {
		require.Zero(t, c.Updated+c.Unchanged, c.Kind)
		total += c.New
	}
	require.Equal(t, 30, total)
	h.doJSON("GET", "/api/v1/apikey", nil, 200, &keys)
	require.Len(t, keys, 3)
	for _, k := range keys {
		raw, _ := json.Marshal(k)
		require.NotContains(t, string(raw), d.IDs.APIKeys["ci"].APIKey, "never the plaintext")
	}
	requireMovedIn(t, h, mock, d)

	rep, err = app.ImportFlowise(ctx, h.cfg, app.FlowiseImport{Source: &src, Messages: true}, log)
	require.NoError(t, err)
	t.Logf("second import:\n%s", rep)
	require.False(t, rep.Changed())
	require.Contains(t, rep.String(), "nothing to change: all 30 rows are already there")
}

// TestFlowiseExportFileImport takes Flowise's export file through the command and through
// POST /api/v1/export-import/import, and exports it back through .../export.
func TestFlowiseExportFileImport(t *testing.T) {
	d := loadFixtureDeployment(t, "sqlite")
	// The export file of the fixture: what Flowise's Settings → Export writes, made here by
	// Flowgate's export of an imported copy (the fixture holds databases, not a file).
	source := newHarness(t)
	flowise := t.TempDir()
	for _, f := range []string{"database.sqlite", "encryption.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(flowise, f), fixture.Read(t, "flowise-3.1.2", "sqlite", f), 0o600))
	}
	out, err := runImport(t, source.cfg.DataDir, "--flowise-set", "DATABASE_PATH="+flowise, "--flowise-set", "SECRETKEY_PATH="+flowise, "--messages")
	require.NoError(t, err, out)
	selection := map[string]any{"chatflow": true, "agentflowv2": true, "tool": true, "variable": true, "document_store": true,
		"chat_message": true, "chat_feedback": true, "execution": true, "assistant": false}
	status, exported := source.do("POST", "/api/v1/export-import/export", selection)
	require.Equal(t, http.StatusOK, status, "%s", exported)
	var file map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported, &file))
	require.JSONEq(t, `"ExportData.json"`, string(file["FileDefaultName"]))
	for _, k := range []string{"AgentFlow", "AssistantCustom", "AssistantFlow", "AssistantOpenAI", "AssistantAzure", "CustomTemplate"} {
		require.JSONEq(t, `[]`, string(file[k]), k)
	}
	status, body := source.do("POST", "/api/v1/export-import/export", map[string]any{"chatflow": "yes"})
	requireFlowiseError(t, status, body, http.StatusBadRequest, "invalid chatflow property")
	path := filepath.Join(t.TempDir(), "ExportData.json")
	require.NoError(t, os.WriteFile(path, exported, 0o600))

	// Through the command.
	viaCmd := newHarness(t)
	out, err = runImport(t, viaCmd.cfg.DataDir, "--export-file", path)
	require.NoError(t, err, out)
	require.Contains(t, out, "chatflows        3 new")
	require.Contains(t, out, "agentflows       1 new")
	out, err = runImport(t, viaCmd.cfg.DataDir, "--export-file", path)
	require.NoError(t, err, out)
	require.Contains(t, out, "nothing to change")

	// Through the route.
	viaAPI := newHarness(t)
	status, body = viaAPI.do("POST", "/api/v1/export-import/import", exported)
	require.Equal(t, http.StatusOK, status, "%s", body)
	var answer struct {
		Message  string `json:"message"`
		Imported []struct {
			Kind           string
			New, Unchanged int
		} `json:"imported"`
	}
	require.NoError(t, json.Unmarshal(body, &answer))
	require.Equal(t, "success", answer.Message)
	news := map[string]int{}
	for _, c := range answer.Imported {
		news[c.Kind] = c.New
	}
	require.Equal(t, 3, news["chatflows"])
	require.Equal(t, 1, news["agentflows"])
	require.Equal(t, 10, news["chat messages"])
	status, body = viaAPI.do("POST", "/api/v1/export-import/import", exported)
	require.Equal(t, http.StatusOK, status, "%s", body)
	require.NoError(t, json.Unmarshal(body, &answer))
	for _, c := range answer.Imported {
		require.Zero(t, c.New, "second import of %s", c.Kind)
	}
	var flows []map[string]any
	viaAPI.doJSON("GET", "/api/v1/chatflows", nil, 200, &flows)
	require.Len(t, flows, 4)
	var got map[string]any
	viaAPI.doJSON("GET", "/api/v1/chatflows/"+d.IDs.Chatflows["configured"].ID, nil, 200, &got)
	require.Equal(t, d.IDs.APIKeys["ci"].ID, got["apikeyid"], "the key binding travels in the file")

	// Bad files are refused in Flowise's error shape, and write nothing.
	for body, want := range map[string]string{
		`{"ChatFlow":[{"id":"x","name":"broken","flowData":"{}","createdDate":"soon","updatedDate":"soon"}]}`: `chat_flow row x: column createdDate: "soon" is not a date`,
		`[1,2]`: "must be a JSON object",
		`{"ChatFlow":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`: "nested deeper",
	} {
		status, got := viaAPI.do("POST", "/api/v1/export-import/import", body)
		requireFlowiseError(t, status, got, http.StatusBadRequest, want)
	}
	viaAPI.doJSON("GET", "/api/v1/chatflows", nil, 200, &flows)
	require.Len(t, flows, 4)
}
