package jsrun

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/sandbox/netguard"
)

type fetchCall struct {
	method, url, body string
	headers           map[string]string
}

// recordingFetch answers every request with a fixed JSON document and
// remembers the requests.
type recordingFetch struct {
	mu    sync.Mutex
	calls []fetchCall
}

func (r *recordingFetch) fetch(_ context.Context, method, url string, headers map[string]string, body string) (int, map[string]string, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fetchCall{method, url, body, headers})
	return 201, map[string]string{"Content-Type": "application/json"}, `{"temp": 21.5, "city": "Paris"}`, nil
}

func TestFetchCallsHookWithArguments(t *testing.T) {
	rec := &recordingFetch{}
	got, err := Run(context.Background(), `
		const res = await fetch('https://api.example/weather?city=' + $city, {
			method: 'post',
			headers: { 'Content-Type': 'application/json', 'X-Key': $vars.key },
			body: JSON.stringify({ city: $city }),
		});
		const data = await res.json();
		return [res.status, res.ok, res.headers.get('content-type'), res.headers.has('x-missing'), data.temp, await res.text()];`,
		Env{Fetch: rec.fetch, Vars: map[string]any{"key": "k1"}, Input: map[string]any{"city": "Paris"}}, Limits{})
	require.NoError(t, err)
	require.Equal(t, []any{float64(201), true, "application/json", false, 21.5, `{"temp": 21.5, "city": "Paris"}`}, got)
	require.Equal(t, []fetchCall{{
		method:  "POST",
		url:     "https://api.example/weather?city=Paris",
		body:    `{"city":"Paris"}`,
		headers: map[string]string{"Content-Type": "application/json", "X-Key": "k1"},
	}}, rec.calls)
}

// Flowise's default custom tool template.
func TestFetchThroughRequireNodeFetch(t *testing.T) {
	rec := &recordingFetch{}
	got, err := RunString(context.Background(), `
		const fetch = require('node-fetch');
		const url = 'https://api.open-meteo.com/v1/forecast';
		const options = { method: 'GET', headers: { 'Content-Type': 'application/json' } };
		try {
			const response = await fetch(url, options);
			const text = await response.text();
			return text;
		} catch (error) {
			console.error(error);
			return '';
		}`, Env{Fetch: rec.fetch}, Limits{})
	require.NoError(t, err)
	require.Equal(t, `{"temp": 21.5, "city": "Paris"}`, got)
	require.Len(t, rec.calls, 1)
	require.Equal(t, "GET", rec.calls[0].method)
}

var errUpstream = errors.New("upstream exploded")

func TestFetchErrors(t *testing.T) {
	failing := func(context.Context, string, string, map[string]string, string) (int, map[string]string, string, error) {
		return 0, nil, "", errUpstream
	}
	_, err := Run(context.Background(), `await fetch('https://x.example')`, Env{Fetch: failing}, Limits{})
	require.ErrorIs(t, err, errUpstream, "an uncaught fetch failure is the Go error")

	got, err := Run(context.Background(), `
		try { await fetch('https://x.example') } catch (e) { return 'handled: ' + e.message }`, Env{Fetch: failing}, Limits{})
	require.NoError(t, err)
	require.Equal(t, "handled: fetch GET: upstream exploded", got)

	badJSON := func(context.Context, string, string, map[string]string, string) (int, map[string]string, string, error) {
		return 200, nil, "not json", nil
	}
	_, err = Run(context.Background(), `const r = await fetch('https://x.example'); return await r.json()`, Env{Fetch: badJSON}, Limits{})
	var se *ScriptError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "SyntaxError", se.Name)
}

func TestFetchHonoursTimeout(t *testing.T) {
	var sawCancel sync.WaitGroup
	sawCancel.Add(1)
	hanging := func(ctx context.Context, _, _ string, _ map[string]string, _ string) (int, map[string]string, string, error) {
		<-ctx.Done()
		sawCancel.Done()
		return 0, nil, "", ctx.Err()
	}
	start := time.Now()
	_, err := Run(context.Background(), `await fetch('https://slow.example')`, Env{Fetch: hanging}, Limits{Timeout: 200 * time.Millisecond})
	require.ErrorIs(t, err, ErrTimeout)
	require.Less(t, time.Since(start), 200*time.Millisecond+slack)
	sawCancel.Wait() // the hook's context was cancelled, so it returned
}

// End to end with netguard as the caller will wire it.
func TestFetchThroughNetguard(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("internal secret"))
	}))
	defer srv.Close()

	viaPolicy := func(p netguard.Policy) FetchFunc {
		client := p.Client(nil, 5*time.Second)
		return func(ctx context.Context, method, url string, headers map[string]string, body string) (int, map[string]string, string, error) {
			req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
			if err != nil {
				return 0, nil, "", err
			}
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				return 0, nil, "", err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return resp.StatusCode, map[string]string{"Content-Type": resp.Header.Get("Content-Type")}, string(b), err
		}
	}
	code := `const r = await fetch($url); return await r.text()`
	env := Env{Input: map[string]any{"url": srv.URL}}

	env.Fetch = viaPolicy(netguard.Policy{Enforce: true})
	_, err := Run(context.Background(), code, env, Limits{})
	require.ErrorIs(t, err, netguard.ErrForbidden)

	env.Fetch = viaPolicy(netguard.Policy{Enforce: true, Allow: []string{"127.0.0.1"}})
	got, err := Run(context.Background(), code, env, Limits{})
	require.NoError(t, err)
	require.Equal(t, "internal secret", got)
}
