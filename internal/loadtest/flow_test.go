package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLLMChainFlowPointsTheModelAtTheMock(t *testing.T) {
	raw, err := LLMChainFlow("http://127.0.0.1:9999/", "cred-1")
	require.NoError(t, err)
	var g struct {
		Nodes []struct {
			Data struct {
				Name       string         `json:"name"`
				Credential string         `json:"credential"`
				Inputs     map[string]any `json:"inputs"`
			} `json:"data"`
		} `json:"nodes"`
		Edges []any `json:"edges"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &g))
	require.Len(t, g.Nodes, 3)
	require.Len(t, g.Edges, 2)
	require.Equal(t, "chatOpenAI", g.Nodes[0].Data.Name)
	require.Equal(t, "cred-1", g.Nodes[0].Data.Credential)
	require.Equal(t, "http://127.0.0.1:9999/v1", g.Nodes[0].Data.Inputs["basepath"])
}

func TestAdminSetUpLLMChain(t *testing.T) {
	// The handler only records (requests are sequential); the test checks afterwards.
	var paths, auth []string
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		paths, auth, bodies = append(paths, r.URL.Path), append(auth, r.Header.Get("Authorization")), append(bodies, body)
		switch r.URL.Path {
		case "/api/v1/credentials":
			_, _ = w.Write([]byte(`{"id":"cred-1"}`))
		case "/api/v1/chatflows":
			_, _ = w.Write([]byte(`{"id":"flow-1"}`))
		default:
			_, _ = w.Write([]byte(`{"text":"MOCK ANSWER"}`))
		}
	}))
	defer srv.Close()
	id, err := Admin{Base: srv.URL, Key: "key-1"}.SetUpLLMChain(context.Background(), "http://mock")
	require.NoError(t, err)
	require.Equal(t, "flow-1", id)
	require.Equal(t, []string{"/api/v1/credentials", "/api/v1/chatflows", "/api/v1/prediction/flow-1"}, paths)
	require.Equal(t, []string{"Bearer key-1", "Bearer key-1", "Bearer key-1"}, auth)
	require.Equal(t, "openAIApi", bodies[0]["credentialName"])
	require.Contains(t, bodies[1]["flowData"], `"credential":"cred-1"`)
	require.Contains(t, bodies[1]["flowData"], "http://mock/v1")

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"message":"Unauthorized Access"}`, http.StatusUnauthorized)
	}))
	defer bad.Close()
	_, err = Admin{Base: bad.URL}.SetUpLLMChain(context.Background(), "http://mock")
	require.ErrorContains(t, err, "status 401")
}
