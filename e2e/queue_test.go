package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/pgtest"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// postgresConfig returns the settings of a fresh database on the local PostgreSQL server.
func postgresConfig(t *testing.T) config.Config {
	t.Helper()
	name := pgtest.NewDatabase(t)
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"FLOWGATE_DATA_DIR": dir, "PORT": "0", "WORKER_PORT": "0", "HOST": "127.0.0.1",
			"MODE": "queue", "DATABASE_TYPE": "postgres", "DATABASE_HOST": pgtest.Host,
			"DATABASE_NAME": name, "DATABASE_USER": "postgres", "FLOWGATE_PREDICTION_TIMEOUT": "60s",
			"FLOWISE_SECRETKEY_OVERWRITE": "queue-mode-test-key",
		}[k]
	})
	require.NoError(t, err)
	cfg.TemporalAddress = temporalAddr
	cfg.QueueName = "queue-" + uuid.NewString()
	return cfg
}

// startTier starts one process of a tier.
func startTier(t *testing.T, cfg config.Config, opts app.Options) *app.App {
	t.Helper()
	seedKey(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Start(ctx, cfg, opts, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return a
}

// TestQueueModeStreamsAcrossProcesses runs the API tier (two replicas) and the worker tier
// apart, on PostgreSQL: predictions through either replica, tokens streamed from the worker to
// the API that holds the client, and a client that reconnects to the other replica with
// Last-Event-ID continuing where it left off.
func TestQueueModeStreamsAcrossProcesses(t *testing.T) {
	cfg := postgresConfig(t)
	startTier(t, cfg, app.Options{Worker: true})
	api1 := &harness{t: t, base: "http://" + startTier(t, cfg, app.Options{API: true}).Addr(), mock: llmmock.NewTestServer(t, llmmock.Options{ChunkCount: 8}), key: testKey}
	api2 := &harness{t: t, base: "http://" + startTier(t, cfg, app.Options{API: true}).Addr(), mock: api1.mock, key: testKey}

	cred := api1.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-queue"})
	flowID := api1.createFlow("queue", api1.loadFlow("llm-chain.json", cred), nil)
	want := llmmock.Answer("You are a benchmark bot. Reply to: hi")
	require.Equal(t, want, api2.predict(flowID, map[string]any{"question": "hi"}).Text)
	require.Equal(t, want, api1.predict(flowID, map[string]any{"question": "hi"}).Text)

	// A whole stream through replica 1, the node running in the worker process.
	_, events := api1.stream(flowID, map[string]any{"question": "hi"})
	require.Equal(t, want, tokens(t, events))
	require.Equal(t, "start", events[0].Event)
	require.Equal(t, []string{"metadata", "end"}, eventNames(events)[len(events)-2:])

	// Read up to the second token from replica 1, drop the connection, resume on replica 2.
	raw, err := json.Marshal(map[string]any{"question": "hi", "streaming": true})
	require.NoError(t, err)
	resp, err := httpClient.Post(api1.base+"/api/v1/prediction/"+flowID, "application/json", bytes.NewReader(raw))
	require.NoError(t, err)
	var before strings.Builder
	lastID, seen := "", 0
	rd := bufio.NewReader(resp.Body)
	for seen < 2 {
		block := readBlock(t, rd)
		ev, id := decodeBlock(t, block)
		if ev.Event == "token" {
			var s string
			require.NoError(t, json.Unmarshal(ev.Data, &s))
			before.WriteString(s)
			require.NotEmpty(t, id, "events carry ids in queue mode: %q", block)
			lastID = id
			seen++
		}
	}
	resp.Body.Close()

	req, err := http.NewRequest("POST", api2.base+"/api/v1/prediction/"+flowID, nil)
	require.NoError(t, err)
	req.Header.Set("Last-Event-ID", lastID)
	resp, err = httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	after := parseSSE(t, rest)
	require.NotEqual(t, "start", after[0].Event, "a resumed stream does not start again")
	require.Equal(t, []string{"metadata", "end"}, eventNames(after)[len(after)-2:])
	require.Equal(t, want, before.String()+tokens(t, after), "nothing lost, nothing repeated")
}

func readBlock(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := rd.ReadString('\n')
		require.NoError(t, err)
		if line == "\n" {
			return strings.TrimSuffix(b.String(), "\n")
		}
		b.WriteString(line)
	}
}

// decodeBlock reads one event, "message:\ndata:<json>", with an "\nid:<id>" line after the data
// when the stream is resumable.
func decodeBlock(t *testing.T, block string) (sseEvent, string) {
	t.Helper()
	lines := strings.Split(block, "\n")
	require.GreaterOrEqual(t, len(lines), 2, "block %q", block)
	require.Equal(t, "message:", lines[0])
	require.True(t, strings.HasPrefix(lines[1], "data:"), "block %q", block)
	var ev sseEvent
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "data:")), &ev))
	id := ""
	if len(lines) == 3 {
		require.True(t, strings.HasPrefix(lines[2], "id:"), "block %q", block)
		id = strings.TrimPrefix(lines[2], "id:")
	}
	return ev, id
}
