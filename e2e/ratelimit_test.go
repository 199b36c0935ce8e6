package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// limitConfig is a chatflow apiConfig with a rate limit, numbers as strings as the UI saves them.
func limitConfig(status bool, max, seconds int, msg string) string {
	raw, _ := json.Marshal(map[string]any{"rateLimit": map[string]any{
		"status": status, "limitMax": strconv.Itoa(max), "limitDuration": strconv.Itoa(seconds), "limitMsg": msg,
	}})
	return string(raw)
}

// limitedCall is one prediction's answer as the limiter shaped it.
type limitedCall struct {
	status int
	body   string
	header http.Header
}

// predictFrom posts a prediction with an X-Forwarded-For header (empty: none).
func (h *harness) predictFrom(flowID, forwardedFor string) limitedCall {
	h.t.Helper()
	req, err := http.NewRequest("POST", h.base+"/api/v1/prediction/"+flowID, bytes.NewReader([]byte(`{"question":"hi"}`)))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := httpClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return limitedCall{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func (h *harness) resolvedIP(forwardedFor string) string {
	h.t.Helper()
	req, err := http.NewRequest("GET", h.base+"/api/v1/ip", nil)
	require.NoError(h.t, err)
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	resp, err := httpClient.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	var out struct {
		IP  string `json:"ip"`
		Msg string `json:"msg"`
	}
	require.NoError(h.t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotEmpty(h.t, out.Msg)
	return out.IP
}

// TestRateLimitBehindProxies: with 0, 1 and 2 proxies the limit counts the real client, and a
// client that forges the left part of X-Forwarded-For is still counted as itself.
func TestRateLimitBehindProxies(t *testing.T) {
	cases := []struct {
		proxies string
		// honest is the header the proxies would build for client 203.0.113.7 (empty with
		// none); the forged one has an attacker's entries in front of it.
		honest, forged, otherClient string
		want                        string
	}{
		{"0", "", "6.6.6.6", "9.9.9.9", "127.0.0.1"},
		{"1", "203.0.113.7", "6.6.6.6, 203.0.113.7", "198.51.100.2", "203.0.113.7"},
		{"2", "203.0.113.7, 10.0.0.5", "6.6.6.6, 7.7.7.7, 203.0.113.7, 10.0.0.5", "198.51.100.2, 10.0.0.5", "203.0.113.7"},
	}
	for _, tc := range cases {
		t.Run("proxies="+tc.proxies, func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) { c.NumberOfProxies = tc.proxies })
			cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-rl"})
			flowID := h.createFlow("limited", h.loadFlow("llm-chain.json", cred), map[string]any{
				"apiConfig": limitConfig(true, 2, 60, "Slow down, please"),
			})
			require.Equal(t, tc.want, h.resolvedIP(tc.honest))
			require.Equal(t, tc.want, h.resolvedIP(tc.forged), "a forged left part never changes the client")

			first := h.predictFrom(flowID, tc.honest)
			require.Equal(t, 200, first.status, first.body)
			require.Equal(t, "2", first.header.Get("RateLimit-Limit"))
			require.Equal(t, "1", first.header.Get("RateLimit-Remaining"))
			require.Equal(t, 200, h.predictFrom(flowID, tc.forged).status)
			for _, xff := range []string{tc.forged, "1.2.3.4, " + tc.forged, tc.honest} {
				refused := h.predictFrom(flowID, xff)
				require.Equal(t, http.StatusTooManyRequests, refused.status, "XFF %q", xff)
				require.Equal(t, "Slow down, please", refused.body)
				require.Equal(t, "0", refused.header.Get("RateLimit-Remaining"))
				retry, err := strconv.Atoi(refused.header.Get("Retry-After"))
				require.NoError(t, err)
				require.InDelta(t, 60, retry, 2)
			}
			if tc.proxies != "0" { // behind proxies, another client has its own count
				require.Equal(t, 200, h.predictFrom(flowID, tc.otherClient).status)
			}
		})
	}
}

// TestRateLimitSharedAcrossReplicas runs two API processes on one PostgreSQL: together they
// allow exactly limitMax per window, and an edited or disabled limit applies on both.
func TestRateLimitSharedAcrossReplicas(t *testing.T) {
	c := newCluster(t)
	a, b := c.api(), c.api()
	a.mock = llmmock.NewTestServer(t, llmmock.Options{})
	c.worker()
	cred := a.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-shared"})
	flowID := a.createFlow("shared", a.loadFlow("llm-chain.json", cred), map[string]any{
		"apiConfig": limitConfig(true, 5, 3600, "shared limit reached"),
	})

	ok, refused := 0, 0
	for i := range 16 {
		h := []*harness{a, b}[i%2]
		switch r := h.predictFrom(flowID, ""); r.status {
		case 200:
			ok++
		case http.StatusTooManyRequests:
			refused++
			require.Equal(t, "shared limit reached", r.body)
		default:
			t.Fatalf("unexpected answer %d: %s", r.status, r.body)
		}
	}
	require.Equal(t, 5, ok, "two replicas together allow limitMax")
	require.Equal(t, 11, refused)

	// A raised limit is a new count on every replica at once; b sees the edit made through a.
	a.doJSON("PUT", "/api/v1/chatflows/"+flowID, map[string]any{"apiConfig": limitConfig(true, 8, 3600, "raised")}, 200, nil)
	require.Eventually(t, func() bool {
		return b.predictFrom(flowID, "").header.Get("RateLimit-Limit") == "8"
	}, time.Second, 50*time.Millisecond)

	// Disabling lifts it everywhere.
	a.doJSON("PUT", "/api/v1/chatflows/"+flowID, map[string]any{"apiConfig": limitConfig(false, 8, 3600, "off")}, 200, nil)
	for i := range 12 {
		r := []*harness{a, b}[i%2].predictFrom(flowID, "")
		require.Equal(t, 200, r.status, fmt.Sprintf("request %d after disabling: %s", i, r.body))
		require.Empty(t, r.header.Get("RateLimit-Limit"))
	}
}

// TestRateLimitKeyedBySession counts per conversation as well as per address when the flow
// says keyBy ["ip","sessionId"] (a Flowgate extension): one chat's burst leaves another's alone.
func TestRateLimitKeyedBySession(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-session"})
	apiConfig := `{"rateLimit":{"status":true,"limitMax":"1","limitDuration":"60","limitMsg":"one per chat","keyBy":["ip","sessionId"]}}`
	flowID := h.createFlow("per session", h.loadFlow("llm-chain.json", cred), map[string]any{"apiConfig": apiConfig})
	ask := func(chatID string) int {
		status, _ := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "hi", "chatId": chatID})
		return status
	}
	require.Equal(t, 200, ask("a"))
	require.Equal(t, http.StatusTooManyRequests, ask("a"))
	require.Equal(t, 200, ask("b"))
	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "hi", "overrideConfig": map[string]any{"sessionId": "b"}})
	require.Equal(t, http.StatusTooManyRequests, status, "overrideConfig.sessionId names the same conversation: %s", body)
}
