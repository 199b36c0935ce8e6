package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/models"
)

// testAPI is the API over a fresh database, with one key for the management routes and no
// Temporal: a request that got as far as starting a run would panic into a 500, so a test
// tells a request refused up front from one that went on.
type testAPI struct {
	t     *testing.T
	srv   *httptest.Server
	key   string
	store *models.Store
	files storage.Store
	logs  *recordedLogs
}

// newTestAPI serves the API on a fresh database of dbType ("sqlite" or "postgres"), which also
// holds the API keys.
func newTestAPI(t *testing.T, dbType string) *testAPI {
	t.Helper()
	return newTestAPIWith(t, dbType, Config{})
}

// newTestAPIWith is newTestAPI with settings of the test's own.
func newTestAPIWith(t *testing.T, dbType string, cfg Config) *testAPI {
	t.Helper()
	ctx := context.Background()
	dbCfg := models.DBConfig{Type: "sqlite", Path: t.TempDir()}
	if dbType == "postgres" {
		dbCfg = models.DBConfig{Type: "postgres", Host: pgtest.Host, Port: pgtest.Port, Name: pgtest.NewDatabase(t), User: pgtest.User}
	}
	db, err := models.Open(ctx, dbCfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	files, err := storage.Open(ctx, storage.Config{Type: storage.TypeLocal, LocalPath: t.TempDir()})
	require.NoError(t, err)
	keys := apikeys.NewDBStore(db)
	_, key, err := keys.Create(ctx, "test")
	require.NoError(t, err)
	logs := &recordedLogs{}
	store := models.NewStore(db)
	s := New(cfg, Deps{
		Store: store, Temporal: noRuns{}, Broker: stream.NewLocal(), Keys: keys, Files: files, Log: slog.New(logs),
		Cipher: secrets.NewCipher(secrets.NewKey("test passphrase", "test")),
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &testAPI{t: t, srv: srv, key: key, store: store, files: files, logs: logs}
}

// noRuns is a Temporal with no runs: nothing to abort. Anything else panics (a 500), as the
// absent Temporal did before.
type noRuns struct{ client.Client }

func (noRuns) CancelWorkflow(context.Context, string, string) error {
	return serviceerror.NewNotFound("no such run")
}

func (noRuns) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, serviceerror.NewNotFound("no such run")
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body string
}

// raw sends body (none when empty, else JSON) to path with header name/value pairs (an empty
// value sends none) and no key unless they give one.
func (a *testAPI) raw(method, path, body string, header ...string) response {
	a.t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	return a.request(method, path, contentType, strings.NewReader(body), header...)
}

// call sends body (a JSON string, or nothing when empty) with the key and decodes the answer
// into out when out is not nil.
func (a *testAPI) call(method, path, body string, wantStatus int, out any) []byte {
	a.t.Helper()
	status, raw := a.send(method, path, "application/json", strings.NewReader(body), "Authorization", "Bearer "+a.key)
	require.Equal(a.t, wantStatus, status, "body: %s", raw)
	if out != nil {
		require.NoError(a.t, json.Unmarshal([]byte(raw), out), "body: %s", raw)
	}
	return []byte(raw)
}

// requireError checks an answer in Flowise's error shape.
func (a *testAPI) requireError(method, path, body string, wantStatus int, wantIn string) {
	a.t.Helper()
	var e errorBody
	a.call(method, path, body, wantStatus, &e)
	require.Equal(a.t, wantStatus, e.StatusCode)
	require.False(a.t, e.Success)
	require.Contains(a.t, e.Message, wantIn)
}

// send makes one request to path (raw: it may hold %00) with header name/value pairs and
// returns the status and body.
func (a *testAPI) send(method, path, contentType string, body io.Reader, header ...string) (int, string) {
	a.t.Helper()
	resp := a.request(method, path, contentType, body, header...)
	return resp.StatusCode, resp.body
}

// request makes one request; raw and send say how.
func (a *testAPI) request(method, path, contentType string, body io.Reader, header ...string) response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, body)
	require.NoError(a.t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := a.srv.Client().Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return response{Response: resp, body: string(raw)}
}

// publicFlow saves a chatflow that anyone may run and returns its id.
func (a *testAPI) publicFlow() string {
	a.t.Helper()
	f := &models.ChatFlow{ID: "6f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0b", Name: "public", FlowData: `{"nodes":[],"edges":[]}`}
	require.NoError(a.t, a.store.CreateChatFlow(context.Background(), f))
	return f.ID
}

// requireFlowiseError checks an answer's status and Flowise's error shape, and that its
// message contains want.
func requireFlowiseError(t *testing.T, status int, body string, wantStatus int, want string) {
	t.Helper()
	require.Equal(t, wantStatus, status, body)
	var e errorBody
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	require.Equal(t, wantStatus, e.StatusCode)
	require.False(t, e.Success)
	require.Contains(t, e.Message, want)
}

// recordedLogs keeps what the API logs, to check its levels.
type recordedLogs struct {
	mu      sync.Mutex
	records []string // "LEVEL message"
	errors  int      // records at ERROR or above
}

func (r *recordedLogs) Enabled(context.Context, slog.Level) bool { return true }

func (r *recordedLogs) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Level.String()+" "+rec.Message)
	if rec.Level >= slog.LevelError {
		r.errors++
	}
	return nil
}

func (r *recordedLogs) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recordedLogs) WithGroup(string) slog.Handler      { return r }

// requireNoErrors fails when anything was logged at ERROR or above.
func (r *recordedLogs) requireNoErrors(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Zero(t, r.errors, "logged: %v", r.records)
}
