package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/flowgate/flowgate/workflows/node"
)

// TestRecordHistories writes real run histories for the workflow replay test. It runs only when
// FLOWGATE_RECORD_HISTORY names the output directory (workflows/testdata): record again when a
// deliberate, versioned workflow change makes the old histories obsolete.
func TestRecordHistories(t *testing.T) {
	dir := os.Getenv("FLOWGATE_RECORD_HISTORY")
	if dir == "" {
		t.Skip("set FLOWGATE_RECORD_HISTORY=<dir> to record histories")
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sky":"clear"}`))
	}))
	t.Cleanup(api.Close)
	h := newHarness(t, allowLoopbackHTTP(t))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-record"})
	// record runs the predictions of one conversation (a run that stops for human input takes
	// more than one) and writes its run's history.
	record := func(flowID, out string, bodies ...map[string]any) {
		for _, body := range bodies {
			h.doJSON("POST", "/api/v1/prediction/"+flowID, body, 200, nil)
		}
		workflowID := node.WorkflowID(flowID, bodies[0]["chatId"].(string))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.app.Temporal().GetWorkflow(ctx, workflowID, "").Get(ctx, nil) // the whole history
		iter := h.app.Temporal().GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		hist := &historypb.History{}
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			hist.Events = append(hist.Events, ev)
		}
		raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, out), raw, 0o644))
		// The replay test needs the run's id: child workflows' ids derive from it.
		idFile := strings.TrimSuffix(out, ".history.json") + ".workflow-id"
		require.NoError(t, os.WriteFile(filepath.Join(dir, idFile), []byte(workflowID+"\n"), 0o644))
	}
	for _, f := range []struct{ file, out string }{
		{"llm-chain.json", "llm-chain.history.json"},
		{"conversation-chain.json", "conversation-chain.history.json"},
	} {
		record(h.createFlow(f.file, h.loadFlow(f.file, cred), nil), f.out, map[string]any{"question": "record me", "chatId": "record"})
	}
	record(weatherFlow(t, h, cred, api.URL), "agentflow-weather.history.json", map[string]any{"question": "weather?", "chatId": "record"})
	// A chatflow whose If Else node skips the other branch's nodes.
	record(h.createFlow("if else", ifElseFlow(h, cred), nil), "chatflow-if-else.history.json", map[string]any{"question": "tea please", "chatId": "record-ifelse"})

	// An agent whose tool needs approval, then another agentflow as a tool (a child workflow).
	var tool struct{ ID string }
	h.doJSON("POST", "/api/v1/tools", map[string]any{"name": "add_numbers", "description": "Adds two numbers",
		"schema": `[{"property":"a","type":"number"},{"property":"b","type":"number"}]`, "func": "return String($a + $b)"}, 200, &tool)
	desk := h.createFlow("desk", deskFlow(t), map[string]any{"type": "AGENTFLOW"})
	clerk := customToolFlow(t, h, cred, tool.ID, desk)
	record(clerk, "agentflow-tool-approval.history.json",
		map[string]any{"question": `call add_numbers with {"a":2,"b":3}`, "chatId": "record"},
		map[string]any{"chatId": "record", "humanInput": map[string]any{"type": "proceed"}})
	record(clerk, "agentflow-flow-tool.history.json", map[string]any{"question": `call ask_desk with {"input":"hello"}`, "chatId": "record-desk"})

	// A classic chatflow's tool agent: a calculator call, then another chatflow as a tool.
	child := h.createFlow("child", h.loadFlow("llm-chain.json", cred), nil)
	agent := h.createFlow("tool agent", flowJSON(t, []any{
		cfNode("bufferMemory_0", "bufferMemory", "Memory", map[string]any{"sessionId": "", "memoryKey": "chat_history"}),
		cfNode("calculator_0", "calculator", "Tools", map[string]any{}),
		cfNode("ChatflowTool_0", "ChatflowTool", "Tools", map[string]any{"selectedChatflow": child, "name": "benchmark_bot", "description": "asks the bot"}),
		withCredential(cfNode("chatOpenAI_0", "chatOpenAI", "Chat Models", map[string]any{"modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1"}), cred),
		cfNode("toolAgent_0", "toolAgent", "Agents", map[string]any{"model": ref("chatOpenAI_0"), "memory": ref("bufferMemory_0"),
			"tools": []any{ref("calculator_0"), ref("ChatflowTool_0")}}),
	}, []any{
		cfEdge("bufferMemory_0", "toolAgent_0", "memory"), cfEdge("calculator_0", "toolAgent_0", "tools"),
		cfEdge("ChatflowTool_0", "toolAgent_0", "tools"), cfEdge("chatOpenAI_0", "toolAgent_0", "model"),
	}), nil)
	record(agent, "chatflow-tool-agent.history.json",
		map[string]any{"question": `call calculator with {"input":"6*7"} then call benchmark_bot with {"input":"hi"}`, "chatId": "record-agent"})

	// A human input node that stops the run twice: rejected with feedback (back to the draft
	// through the loop), then approved.
	record(approvalFlow(t, h, cred), "agentflow-human-input.history.json",
		map[string]any{"question": "refund please", "chatId": "record-hitl"},
		map[string]any{"chatId": "record-hitl", "humanInput": map[string]any{"type": "reject", "feedback": "be kinder"}},
		map[string]any{"chatId": "record-hitl", "humanInput": map[string]any{"type": "proceed"}})
}
