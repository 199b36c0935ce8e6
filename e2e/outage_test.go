package e2e

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
)

// tcpProxy stands between Flowgate and PostgreSQL so a test can take the database away and
// give it back, exactly as a client sees a server that stops and restarts, without stopping
// the machine's PostgreSQL under other tests.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	l      net.Listener
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) listen(addr string) {
	l, err := net.Listen("tcp", addr)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.l, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(client net.Conn) {
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(server, client); server.Close() }()
	_, _ = io.Copy(client, server)
	client.Close()
}

// down refuses new connections and cuts the open ones.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// up accepts connections again on the same address.
func (p *tcpProxy) up() { p.listen(p.addr) }

// TestPostgresOutageFailsFastAndRecovers takes PostgreSQL away during traffic: requests get 503
// with Retry-After within seconds instead of hanging, readiness says so, a prediction in flight
// finishes once the database is back, and every answered prediction's messages are stored.
func TestPostgresOutageFailsFastAndRecovers(t *testing.T) {
	cfg := postgresConfig(t)
	proxy := startProxy(t, "127.0.0.1:5432")
	_, port, err := net.SplitHostPort(proxy.addr)
	require.NoError(t, err)
	cfg.Database.Port = atoi(t, port)
	cfg.Mode = config.ModeMain
	h := startHarness(t, cfg)

	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-outage"})
	flowID := h.createFlow("outage", h.loadFlow("llm-chain.json", cred), nil)
	var answered []string
	for range 3 {
		answered = append(answered, h.predict(flowID, map[string]any{"question": "before"}).ChatMessageID)
	}

	// A run whose model call is under way when the database goes.
	h.mock.SetDelay(2 * time.Second)
	inFlight := make(chan predictionAnswer, 1)
	go func() { inFlight <- h.predict(flowID, map[string]any{"question": "during", "chatId": "in-flight"}) }()
	require.Eventually(t, func() bool { return h.mock.Calls() == 4 }, 20*time.Second, 10*time.Millisecond)

	proxy.down()
	for range 3 {
		start := time.Now()
		req, err := http.NewRequest("POST", h.base+"/api/v1/prediction/"+flowID, strings.NewReader(`{"question":"down"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Log(h.logs.String())
		}
		requireFlowiseError(t, resp.StatusCode, body, 503, "database is unavailable")
		require.Equal(t, "5", resp.Header.Get("Retry-After"))
		require.Less(t, time.Since(start), 7*time.Second, "fails fast, never hangs")
	}
	status, body := h.do("GET", "/readyz", nil)
	require.Equal(t, 503, status, "%s", body)
	require.Contains(t, string(body), "database")

	proxy.up()
	h.mock.SetDelay(0)
	answered = append(answered, (<-inFlight).ChatMessageID)
	require.Eventually(t, func() bool {
		status, _ := h.do("GET", "/readyz", nil)
		return status == 200
	}, 30*time.Second, 100*time.Millisecond, "recovers by itself")
	for range 3 {
		answered = append(answered, h.predict(flowID, map[string]any{"question": "after"}).ChatMessageID)
	}

	var msgs []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
	ids := map[any]bool{}
	for _, m := range msgs {
		ids[m["id"]] = true
	}
	for _, id := range answered {
		require.True(t, ids[id], "answered message %s is stored", id)
	}
	require.Len(t, msgs, 2*len(answered), "refused requests stored nothing")
}
