package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
)

// editFlow decodes flowData, lets edit change it, and encodes it again.
func editFlow(t *testing.T, flowData string, edit func(nodes []any, edges *[]any)) string {
	t.Helper()
	var g map[string]any
	require.NoError(t, json.Unmarshal([]byte(flowData), &g))
	edges := g["edges"].([]any)
	edit(g["nodes"].([]any), &edges)
	g["edges"] = edges
	out, err := json.Marshal(g)
	require.NoError(t, err)
	return string(out)
}

func nodeData(nodes []any, id string) map[string]any {
	for _, n := range nodes {
		if n.(map[string]any)["id"] == id {
			return n.(map[string]any)["data"].(map[string]any)
		}
	}
	return nil
}

// requireNoMessages proves a failed prediction wrote nothing.
func (h *harness) requireNoMessages(flowID string) {
	h.t.Helper()
	var msgs []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
	require.Empty(h.t, msgs)
}

func TestRequestErrors(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.FileSizeLimit = 64 << 10 })
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	good := h.loadFlow("llm-chain.json", cred)
	flowID := h.createFlow("ok", good, nil)

	t.Run("malformed JSON", func(t *testing.T) {
		status, body := h.do("POST", "/api/v1/prediction/"+flowID, `{"question": "hi"`)
		requireFlowiseError(t, status, body, 400, "invalid JSON body")
		status, body = h.do("POST", "/api/v1/chatflows", `{"name": `)
		requireFlowiseError(t, status, body, 400, "invalid JSON body")
	})
	t.Run("unknown chatflow", func(t *testing.T) {
		status, body := h.do("POST", "/api/v1/prediction/6b7a2c57-0000-4000-8000-000000000000", map[string]any{"question": "hi"})
		requireFlowiseError(t, status, body, 404, "Chatflow 6b7a2c57-0000-4000-8000-000000000000 not found")
		status, body = h.do("GET", "/api/v1/chatflows/nope", nil)
		requireFlowiseError(t, status, body, 404, "not found")
	})
	t.Run("flowData that is not JSON", func(t *testing.T) {
		status, body := h.do("POST", "/api/v1/chatflows", map[string]any{"name": "bad", "flowData": "{nodes: oops"})
		requireFlowiseError(t, status, body, 400, "flowData is not valid JSON")
		status, body = h.do("PUT", "/api/v1/chatflows/"+flowID, map[string]any{"flowData": "[1,"})
		requireFlowiseError(t, status, body, 400, "flowData is not valid JSON")
	})
	t.Run("oversized body", func(t *testing.T) {
		status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": strings.Repeat("x", 100<<10)})
		requireFlowiseError(t, status, body, 413, "larger than the limit")
	})
	// Graphs that cannot run: each is refused with a message that says why, and nothing is saved.
	for _, c := range []struct {
		name, want string
		edit       func(nodes []any, edges *[]any)
	}{
		{"no valid ending node", "Ending node must be either a Chain or Agent or Engine", func(_ []any, edges *[]any) {
			// Drop the chain: the model is left as the end of the flow.
			*edges = []any{map[string]any{"source": "promptTemplate_0", "target": "chatOpenAI_0", "sourceHandle": "a", "targetHandle": "b"}}
		}},
		{"cycle", "cycle", func(_ []any, edges *[]any) {
			*edges = append(*edges, map[string]any{"source": "llmChain_0", "target": "promptTemplate_0", "sourceHandle": "x", "targetHandle": "y"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := h.createFlow(c.name, editFlow(t, good, c.edit), nil)
			status, body := h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
			requireFlowiseError(t, status, body, 500, c.want)
			h.requireNoMessages(id)
		})
	}
	t.Run("unknown node kind", func(t *testing.T) {
		bad := editFlow(t, good, func(nodes []any, _ *[]any) {
			nodeData(nodes, "promptTemplate_0")["name"] = "fewShotPromptTemplate"
		})
		id := h.createFlow("unknown kind", bad, nil)
		status, body := h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
		requireFlowiseError(t, status, body, 500, "Flowgate cannot run node promptTemplate_0 (fewShotPromptTemplate)")
		// Streaming asks get the same JSON error: nothing has started yet.
		status, body = h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi", "streaming": true})
		requireFlowiseError(t, status, body, 500, "fewShotPromptTemplate")
		h.requireNoMessages(id)
	})
	t.Run("missing credential", func(t *testing.T) {
		id := h.createFlow("no cred", h.loadFlow("llm-chain.json", "0b0b0b0b-0000-4000-8000-000000000000"), nil)
		status, body := h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
		requireFlowiseError(t, status, body, 500, "credential 0b0b0b0b-0000-4000-8000-000000000000 not found")
		h.requireNoMessages(id)
	})
}

func TestProviderFailures(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})

	t.Run("answers 500", func(t *testing.T) {
		id := h.createFlow("500", h.loadFlow("llm-chain.json", cred), nil)
		h.mock.FailNext(100, 500)
		defer h.mock.Reset()
		status, body := h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
		requireFlowiseError(t, status, body, 500, "llmChain_0 (llmChain)")
		require.Equal(t, 4, h.mock.Calls(), "Temporal retried the node; the SDK did not retry on its own")
		h.requireNoMessages(id)
	})
	t.Run("rejects the request", func(t *testing.T) {
		id := h.createFlow("401", h.loadFlow("llm-chain.json", cred), nil)
		h.mock.FailNext(1, 401)
		defer h.mock.Reset()
		status, body := h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
		requireFlowiseError(t, status, body, 500, "401")
		require.Equal(t, 1, h.mock.Calls(), "a 4xx is not retried")
		h.requireNoMessages(id)
	})
	t.Run("is down", func(t *testing.T) {
		down := editFlow(t, h.loadFlow("llm-chain.json", cred), func(nodes []any, _ *[]any) {
			nodeData(nodes, "chatOpenAI_0")["inputs"].(map[string]any)["basepath"] = "http://127.0.0.1:1/v1"
		})
		id := h.createFlow("down", down, nil)
		resp, events := h.stream(id, map[string]any{"question": "hi"})
		require.Equal(t, 200, resp.StatusCode)
		require.Equal(t, []string{"start", "error", "end"}, eventNames(events))
		var msg string
		require.NoError(t, json.Unmarshal(events[1].Data, &msg))
		require.Contains(t, msg, "llmChain_0 (llmChain)")
		h.requireNoMessages(id)
	})
	t.Run("is too slow", func(t *testing.T) {
		slow := editFlow(t, h.loadFlow("llm-chain.json", cred), func(nodes []any, _ *[]any) {
			nodeData(nodes, "chatOpenAI_0")["inputs"].(map[string]any)["timeout"] = 200
		})
		id := h.createFlow("slow", slow, nil)
		h.mock.SetDelay(5 * time.Second)
		defer h.mock.Reset()
		start := time.Now()
		status, body := h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
		requireFlowiseError(t, status, body, 500, "timed out")
		require.Less(t, time.Since(start), 20*time.Second, "the node's timeout bounds each attempt")
		h.requireNoMessages(id)
	})
}
