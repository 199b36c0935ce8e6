package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/flowgate/flowgate/api"
	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/knowledge/extract"
	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/devserver"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// temporalAddr is the embedded server shared by every test of the package; each test gets its
// own database, key and task queue, so tests do not see each other's runs.
var temporalAddr string

func TestMain(m *testing.M) {
	// The app in this process reads uploaded PDFs in child processes that re-execute this
	// test binary.
	if extract.IsChild() {
		os.Exit(extract.ServeChild())
	}
	dev, err := devserver.Start(devserver.Options{
		Namespace: "default",
		UIPort:    -1,
		SearchAttributes: map[string]enumspb.IndexedValueType{
			api.SearchAttributeNames[0]: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			api.SearchAttributeNames[1]: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded Temporal:", err)
		os.Exit(1)
	}
	temporalAddr = dev.FrontendAddress()
	code := m.Run()
	dev.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// harness is one running Flowgate process (API and worker) with a mock LLM.
type harness struct {
	t    *testing.T
	app  *app.App
	cfg  config.Config
	base string
	mock *llmmock.Server
	logs *lockedWriter
	key  string // API key for management routes
}

// testKey is the API key every in-process test server knows: seeded into its key store before
// it starts (so no DefaultKey is made), and valid across restarts on the same data.
var testKey = apikeys.Generate()

func seedKey(t *testing.T, cfg config.Config) {
	t.Helper()
	secret, err := apikeys.Hash(testKey)
	require.NoError(t, err)
	store := apikeys.NewJSONStore(cfg.APIKeyPath)
	require.NoError(t, store.Import(context.Background(), apikeys.Key{
		ID: "00000000-0000-4000-8000-0000000000e2", Name: "e2e", Prefix: apikeys.Prefix(testKey),
		Secret: secret, CreatedAt: time.Now(),
	}))
}

func newHarness(t *testing.T, mutate ...func(*config.Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(name string) string {
		switch name {
		case "FLOWGATE_DATA_DIR":
			return dir
		case "PORT":
			return "0"
		case "HOST":
			return "127.0.0.1"
		case "FLOWGATE_PREDICTION_TIMEOUT":
			return "30s"
		}
		return ""
	})
	require.NoError(t, err)
	cfg.TemporalAddress = temporalAddr
	cfg.QueueName = "e2e-" + uuid.NewString()
	cfg.SearchAttributes = true
	for _, m := range mutate {
		m(&cfg)
	}
	return startHarness(t, cfg)
}

func startHarness(t *testing.T, cfg config.Config) *harness {
	t.Helper()
	seedKey(t, cfg)
	logs := &lockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Start(ctx, cfg, app.Options{API: true, Worker: true}, log)
	require.NoError(t, err)
	h := &harness{t: t, app: a, cfg: cfg, base: "http://" + a.Addr(), mock: llmmock.NewTestServer(t, llmmock.Options{}), logs: logs, key: testKey}
	t.Cleanup(func() { h.stop() })
	return h
}

func (h *harness) stop() { h.stopWithin(30 * time.Second) }

// stopWithin shuts the process down, giving open requests at most d.
func (h *harness) stopWithin(d time.Duration) {
	if h.app == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = h.app.Shutdown(ctx)
	h.app = nil
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// do sends a request and returns status and body.
func (h *harness) do(method, path string, body any) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.base+path, r)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	return h.send(req)
}

// send adds the harness's API key to req and returns the answer's status and body.
func (h *harness) send(req *http.Request) (int, []byte) {
	h.t.Helper()
	resp, out := h.exchange(req)
	return resp.StatusCode, out
}

// exchange adds the harness's API key to req and returns the answer, its body read whole.
func (h *harness) exchange(req *http.Request) (*http.Response, []byte) {
	h.t.Helper()
	if h.key != "" {
		req.Header.Set("Authorization", "Bearer "+h.key)
	}
	resp, err := httpClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp, out
}

// doJSON sends a request, requires status want and decodes the answer into v.
func (h *harness) doJSON(method, path string, body any, want int, v any) {
	h.t.Helper()
	status, out := h.do(method, path, body)
	require.Equal(h.t, want, status, "body: %s", out)
	if v != nil {
		require.NoError(h.t, json.Unmarshal(out, v), "body: %s", out)
	}
}

// requireFlowiseError checks Flowise's error shape.
func requireFlowiseError(t *testing.T, status int, body []byte, wantStatus int, wantIn string) {
	t.Helper()
	require.Equal(t, wantStatus, status, "body: %s", body)
	var e struct {
		StatusCode int    `json:"statusCode"`
		Success    *bool  `json:"success"`
		Message    string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(body, &e), "body: %s", body)
	require.Equal(t, wantStatus, e.StatusCode)
	require.NotNil(t, e.Success)
	require.False(t, *e.Success)
	require.Contains(t, e.Message, wantIn)
}

// createCredential stores an OpenAI-style credential and returns its id.
func (h *harness) createCredential(name string, plain map[string]any) string {
	h.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	h.doJSON("POST", "/api/v1/credentials", map[string]any{"name": name + "-cred", "credentialName": name, "plainDataObj": plain}, 200, &out)
	require.NotEmpty(h.t, out.ID)
	return out.ID
}

// loadFlow reads a shared flow and points its credentials and base URLs at this harness:
// the only edits a Flowise user would make to run it here.
func (h *harness) loadFlow(rel string, credentialID string) string {
	h.t.Helper()
	raw := fixture.Read(h.t, "flows", rel)
	flowData, _, err := llmmock.PointFlow(raw, h.mock.URL, credentialID)
	require.NoError(h.t, err)
	return flowData
}

// createFlow saves flowData as a chatflow and returns its id.
func (h *harness) createFlow(name, flowData string, extra map[string]any) string {
	h.t.Helper()
	body := map[string]any{"name": name, "flowData": flowData}
	for k, v := range extra {
		body[k] = v
	}
	var out struct {
		ID string `json:"id"`
	}
	h.doJSON("POST", "/api/v1/chatflows", body, 200, &out)
	return out.ID
}

type predictionAnswer struct {
	Text          string `json:"text"`
	Question      string `json:"question"`
	ChatID        string `json:"chatId"`
	ChatMessageID string `json:"chatMessageId"`
	SessionID     string `json:"sessionId"`
	MemoryType    string `json:"memoryType"`
	IsStreamValid *bool  `json:"isStreamValid"`
}

func (h *harness) predict(flowID string, body map[string]any) predictionAnswer {
	h.t.Helper()
	var out predictionAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, body, 200, &out)
	return out
}

// sseEvent is one decoded Flowise SSE event.
type sseEvent struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// stream posts a streaming prediction and returns the raw body and its decoded events, checking
// Flowise's exact framing on the way.
func (h *harness) stream(flowID string, body map[string]any) (*http.Response, []sseEvent) {
	h.t.Helper()
	body["streaming"] = true
	raw, err := json.Marshal(body)
	require.NoError(h.t, err)
	resp, err := httpClient.Post(h.base+"/api/v1/prediction/"+flowID, "application/json", bytes.NewReader(raw))
	require.NoError(h.t, err)
	defer resp.Body.Close()
	all, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp, parseSSE(h.t, all)
}

// parseSSE splits a body into events; every block must be Flowise's framing (see decodeBlock)
// or a comment.
func parseSSE(t *testing.T, body []byte) []sseEvent {
	t.Helper()
	var events []sseEvent
	blocks := strings.Split(string(body), "\n\n")
	require.Equal(t, "", blocks[len(blocks)-1], "stream must end with a blank line: %q", body)
	for _, b := range blocks[:len(blocks)-1] {
		if strings.HasPrefix(b, ":") {
			continue
		}
		ev, _ := decodeBlock(t, b)
		events = append(events, ev)
	}
	return events
}

func eventNames(events []sseEvent) []string {
	names := make([]string, len(events))
	for i, e := range events {
		names[i] = e.Event
	}
	return names
}

// tokens concatenates the token events.
func tokens(t *testing.T, events []sseEvent) string {
	var b strings.Builder
	for _, e := range events {
		if e.Event == "token" {
			var s string
			require.NoError(t, json.Unmarshal(e.Data, &s))
			b.WriteString(s)
		}
	}
	return b.String()
}

// lockedWriter collects logs from many goroutines.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
