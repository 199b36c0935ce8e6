package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/sandbox/netguard"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// afNode and afEdge build Agent Flows v2 flowData the way Flowise exports it.
func afNode(id, kind, label string, inputs map[string]any) map[string]any {
	return map[string]any{"id": id, "type": "agentFlow", "data": map[string]any{"id": id, "name": kind, "label": label, "inputs": inputs}}
}

func afEdge(source, handle, target string) map[string]any {
	return map[string]any{"source": source, "sourceHandle": handle, "target": target, "targetHandle": target}
}

// weatherFlow asks the model, then branches on its answer: the "weather" branch calls an HTTP
// API and post-processes the result in JavaScript; the other branch replies directly.
func weatherFlow(t *testing.T, h *harness, credID, apiURL string) string {
	t.Helper()
	nodes := []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{
			"startInputType": "chatInput", "startState": []any{map[string]any{"key": "city", "value": "Paris"}},
		}),
		afNode("llmAgentflow_0", "llmAgentflow", "Classifier", map[string]any{
			"llmModel": "chatOpenAI",
			"llmMessages": []any{
				map[string]any{"role": "system", "content": "<p>Classify the question.</p>"},
				map[string]any{"role": "user", "content": `<p><span class="variable" data-type="mention" data-id="question">{{ question }}</span></p>`},
			},
			"llmModelConfig": map[string]any{"credential": credID, "modelName": "gpt-4o-mini", "temperature": 0.2, "basepath": h.mock.URL + "/v1", "llmModel": "chatOpenAI"},
		}),
		afNode("conditionAgentflow_0", "conditionAgentflow", "Is it weather?", map[string]any{
			"conditions": []any{map[string]any{"type": "string", "value1": "<p>{{ llmAgentflow_0 }}</p>", "operation": "contains", "value2": "weather"}},
		}),
		afNode("httpAgentflow_0", "httpAgentflow", "Weather API", map[string]any{
			"method": "GET", "url": apiURL + "/forecast", "queryParams": []any{map[string]any{"key": "city", "value": "{{ $flow.state.city }}"}},
		}),
		afNode("customFunctionAgentflow_0", "customFunctionAgentflow", "Format", map[string]any{
			"customFunctionInputVariables":     []any{map[string]any{"variableName": "forecast", "variableValue": "{{ httpAgentflow_0 }}"}},
			"customFunctionJavascriptFunction": "const f = JSON.parse($forecast); return `In ${$flow.state.city}: ${f.sky}`;",
		}),
		afNode("directReplyAgentflow_0", "directReplyAgentflow", "Other", map[string]any{"directReplyMessage": "<p>I only know the weather.</p>"}),
		afNode("stickyNoteAgentflow_0", "stickyNoteAgentflow", "Note", map[string]any{"note": "ignored"}),
	}
	edges := []any{
		afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "llmAgentflow_0"),
		afEdge("llmAgentflow_0", "llmAgentflow_0-output-llmAgentflow", "conditionAgentflow_0"),
		afEdge("conditionAgentflow_0", "conditionAgentflow_0-output-0", "httpAgentflow_0"),
		afEdge("conditionAgentflow_0", "conditionAgentflow_0-output-1", "directReplyAgentflow_0"),
		afEdge("httpAgentflow_0", "httpAgentflow_0-output-httpAgentflow", "customFunctionAgentflow_0"),
	}
	raw, err := json.Marshal(map[string]any{"nodes": nodes, "edges": edges})
	require.NoError(t, err)
	return h.createFlow("weather", string(raw), map[string]any{"type": "AGENTFLOW"})
}

// allowLoopbackHTTP lets agentflow HTTP reach servers the test starts on 127.0.0.1 (also
// named localhost, as templates do), as FLOWGATE_HTTP_ALLOW_LIST would; everything else
// private stays refused.
func allowLoopbackHTTP(t *testing.T) func(*config.Config) {
	return func(c *config.Config) {
		p, err := netguard.ParsePolicy("true", "", "127.0.0.1,localhost")
		require.NoError(t, err)
		c.HTTPPolicy = p
	}
}

type agentAnswer struct {
	Text          string `json:"text"`
	ChatID        string `json:"chatId"`
	ChatMessageID string `json:"chatMessageId"`
	ExecutionID   string `json:"executionId"`
	Executed      []struct {
		NodeID string `json:"nodeId"`
		Status string `json:"status"`
		Data   struct {
			Output map[string]any `json:"output"`
		} `json:"data"`
	} `json:"agentFlowExecutedData"`
}

// requireStreamsText asks a turn again as a streaming client and requires its token events
// to add up to text, the JSON answer of the same turn (asked in another chat: the mock
// answers alike), as Flowise's do; and the stream to close as Flowise's does.
func (h *harness) requireStreamsText(flowID string, body map[string]any, text string) []sseEvent {
	h.t.Helper()
	_, events := h.stream(flowID, body)
	names := eventNames(events)
	require.NotContains(h.t, names, "error")
	require.Equal(h.t, "end", names[len(names)-1])
	require.Equal(h.t, text, tokens(h.t, events), "the tokens add up to the JSON answer's text")
	return events
}

// requireTokensFromTheNode requires the tokens to have come while the answering node ran
// (before the last node's FINISHED event), as a Flowise node sends them, rather than from
// the API completing the stream.
func requireTokensFromTheNode(t *testing.T, events []sseEvent) {
	t.Helper()
	lastToken, lastNode := -1, -1
	for i, ev := range events {
		switch ev.Event {
		case "token":
			lastToken = i
		case "nextAgentFlow":
			lastNode = i
		}
	}
	require.GreaterOrEqual(t, lastToken, 0, "tokens were sent")
	require.Less(t, lastToken, lastNode, "the answering node sent its tokens")
}

func (a agentAnswer) ran() []string {
	var ids []string
	for _, e := range a.Executed {
		ids = append(ids, e.NodeID)
	}
	return ids
}

// TestAgentflowBranchesCallsOutAndRunsCode runs an AGENTFLOW end to end: the model's answer
// picks the branch, the HTTP node reaches an allowed API with a value from $flow.state, and
// sandboxed JavaScript formats the result; the other branch never runs.
func TestAgentflowBranchesCallsOutAndRunsCode(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sky":"sunny in ` + r.URL.Query().Get("city") + `"}`))
	}))
	t.Cleanup(api.Close)
	h := newHarness(t, allowLoopbackHTTP(t))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-agent"})
	flowID := weatherFlow(t, h, cred, api.URL)

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "what is the weather tomorrow?", "chatId": "af-1"}, 200, &ans)
	require.Equal(t, "In Paris: sunny in Paris", ans.Text)
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0", "conditionAgentflow_0", "httpAgentflow_0", "customFunctionAgentflow_0"}, ans.ran())
	require.NotEmpty(t, ans.ExecutionID)
	reqs := h.mock.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "what is the weather tomorrow?", reqs[0].Messages[1].Content, "rich text made plain, variables resolved")

	// A question the model does not classify as weather takes the else branch.
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "tell me a joke", "chatId": "af-2"}, 200, &ans)
	require.Equal(t, "I only know the weather.", ans.Text)
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0", "conditionAgentflow_0", "directReplyAgentflow_0"}, ans.ran())

	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=af-1", nil, 200, &msgs)
	require.Len(t, msgs, 2)
	require.Equal(t, "In Paris: sunny in Paris", msgs[1].Content)
}

// TestAgentflowHTTPRefusesPrivateAddresses: with the default policy an HTTP node cannot reach
// loopback (or any private or metadata address), and the prediction says why.
func TestAgentflowHTTPRefusesPrivateAddresses(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the private API was reached")
	}))
	t.Cleanup(api.Close)
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-agent"})
	flowID := weatherFlow(t, h, cred, api.URL)

	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "weather please", "chatId": "af-ssrf"})
	requireFlowiseError(t, status, body, 500, "refused")
	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
	require.Empty(t, msgs, "a failed run saves nothing")
}

// TestAgentflowWithUnsupportedNodeIsRefusedUpFront names the node this version cannot run.
func TestAgentflowWithUnsupportedNodeIsRefusedUpFront(t *testing.T) {
	h := newHarness(t)
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", nil),
		afNode("agentAgentflow_0", "agentAgentflow", "Agent", map[string]any{"agentModel": "chatOpenAI",
			"agentTools": []any{map[string]any{"agentSelectedTool": "braveSearchAPI"}}}),
		afNode("retrieverAgentflow_0", "retrieverAgentflow", "Docs", nil),
	}, "edges": []any{afEdge("startAgentflow_0", "", "agentAgentflow_0"), afEdge("agentAgentflow_0", "", "retrieverAgentflow_0")}})
	require.NoError(t, err)
	flowID := h.createFlow("tools", string(raw), map[string]any{"type": "AGENTFLOW"})
	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "hi"})
	requireFlowiseError(t, status, body, 500, "agentAgentflow_0 (agentAgentflow): tool braveSearchAPI is not supported")
	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
	require.Empty(t, msgs)
}

// approvalFlow drafts an answer with the model, asks a human, and sends it on proceed; on
// reject it loops back to the draft (at most twice).
func approvalFlow(t *testing.T, h *harness, credID string) string {
	t.Helper()
	nodes := []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("llmAgentflow_0", "llmAgentflow", "Draft", map[string]any{
			"llmModel":       "chatOpenAI",
			"llmMessages":    []any{map[string]any{"role": "user", "content": "<p>Draft a reply to: {{ question }}</p>"}},
			"llmModelConfig": map[string]any{"credential": credID, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "llmModel": "chatOpenAI"},
		}),
		afNode("humanInputAgentflow_0", "humanInputAgentflow", "Approve", map[string]any{
			"humanInputDescriptionType": "fixed", "humanInputDescription": "<p>Send this? {{ llmAgentflow_0 }}</p>", "humanInputEnableFeedback": true,
		}),
		afNode("directReplyAgentflow_0", "directReplyAgentflow", "Send", map[string]any{"directReplyMessage": "Sent: {{ llmAgentflow_0 }}"}),
		afNode("loopAgentflow_0", "loopAgentflow", "Redo", map[string]any{"loopBackToNode": "llmAgentflow_0-Draft", "maxLoopCount": 2, "fallbackMessage": "Giving up."}),
	}
	edges := []any{
		afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "llmAgentflow_0"),
		afEdge("llmAgentflow_0", "llmAgentflow_0-output-llmAgentflow", "humanInputAgentflow_0"),
		afEdge("humanInputAgentflow_0", "humanInputAgentflow_0-output-0", "directReplyAgentflow_0"),
		afEdge("humanInputAgentflow_0", "humanInputAgentflow_0-output-1", "loopAgentflow_0"),
	}
	raw, err := json.Marshal(map[string]any{"nodes": nodes, "edges": edges})
	require.NoError(t, err)
	return h.createFlow("approval", string(raw), map[string]any{"type": "AGENTFLOW"})
}

type stoppedAnswer struct {
	agentAnswer
	Action struct {
		ID      string            `json:"id"`
		Mapping map[string]string `json:"mapping"`
		Data    map[string]any    `json:"data"`
	} `json:"action"`
}

// TestAgentflowHumanInput parks a run at a human input node and resumes it with later
// predictions of the same chat: reject loops back to the draft and asks again, proceed
// continues from the node; no node runs twice in one pass, and late, duplicate, misdirected
// or malformed answers are refused without changing anything.
func TestAgentflowHumanInput(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-hitl"})
	flowID := approvalFlow(t, h, cred)
	predict := func(body map[string]any, out any) {
		h.doJSON("POST", "/api/v1/prediction/"+flowID, body, 200, out)
	}
	refused := func(body map[string]any, want int, msg string) {
		status, raw := h.do("POST", "/api/v1/prediction/"+flowID, body)
		requireFlowiseError(t, status, raw, want, msg)
	}

	var first stoppedAnswer
	predict(map[string]any{"question": "the customer wants a refund", "chatId": "hitl"}, &first)
	draft := llmmock.Answer("Draft a reply to: the customer wants a refund")
	require.Equal(t, draft+"\n\nSend this? "+draft, first.Text, "the draft above the question, as Flowise shows it")
	require.NotEmpty(t, first.Action.ID)
	require.Equal(t, map[string]string{"approve": "Proceed", "reject": "Reject"}, first.Action.Mapping)
	require.Equal(t, "humanInputAgentflow_0", first.Action.Data["nodeId"])
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0", "humanInputAgentflow_0"}, first.ran())
	require.Equal(t, "STOPPED", first.Executed[2].Status)
	var stoppedExec models.Execution
	h.doJSON("GET", "/api/v1/executions/"+first.ExecutionID, nil, 200, &stoppedExec)
	require.Equal(t, "STOPPED", stoppedExec.State)
	require.NotNil(t, stoppedExec.Action)
	require.NotNil(t, stoppedExec.StoppedDate)

	// Answers the run must refuse, changing nothing.
	refused(map[string]any{"chatId": "hitl", "humanInput": map[string]any{"type": "maybe"}}, 400, `humanInput.type must be "proceed" or "reject"`)
	refused(map[string]any{"chatId": "hitl", "humanInput": map[string]any{"type": "proceed", "startNodeId": "llmAgentflow_0"}}, 409, "waits for human input at humanInputAgentflow_0")
	refused(map[string]any{"chatId": "nobody", "humanInput": map[string]any{"type": "proceed"}}, 409, "not waiting for human input")

	// Reject: back to the draft (a second model call), and the human is asked again.
	var second stoppedAnswer
	predict(map[string]any{"chatId": "hitl", "humanInput": map[string]any{"type": "reject", "feedback": "be kinder"}}, &second)
	require.NotEmpty(t, second.Action.ID)
	require.NotEqual(t, first.Action.ID, second.Action.ID)
	require.Len(t, h.mock.Requests(), 2)

	// Proceed: the run continues at the human input node and sends the draft.
	var done agentAnswer
	predict(map[string]any{"chatId": "hitl", "humanInput": map[string]any{"type": "proceed", "startNodeId": "humanInputAgentflow_0"}}, &done)
	// The redraft saw the feedback as the turn's question.
	redraft := llmmock.Answer("Draft a reply to: be kinder")
	require.Equal(t, redraft+"\n\nSend this? "+redraft, second.Text)
	require.Equal(t, "Sent: "+redraft, done.Text)
	require.Len(t, h.mock.Requests(), 2, "proceeding runs no model call again")
	require.Equal(t, []string{
		"startAgentflow_0", "llmAgentflow_0", "humanInputAgentflow_0", "loopAgentflow_0",
		"llmAgentflow_0", "humanInputAgentflow_0", "directReplyAgentflow_0",
	}, done.ran())

	// A late or duplicate answer: the run has finished.
	refused(map[string]any{"chatId": "hitl", "humanInput": map[string]any{"type": "proceed"}}, 409, "not waiting for human input")

	// Three turns saved: the question and the first stop, the rejection and the second stop,
	// the approval and the answer; the stops carry their action.
	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=hitl", nil, 200, &msgs)
	require.Len(t, msgs, 6)
	require.Equal(t, "the customer wants a refund", msgs[0].Content)
	require.NotNil(t, msgs[1].Action)
	require.Contains(t, *msgs[1].Action, first.Action.ID)
	require.Equal(t, "be kinder", msgs[2].Content)
	require.Equal(t, "Proceed", msgs[4].Content)
	require.Equal(t, "Sent: "+redraft, msgs[5].Content)
	require.Nil(t, msgs[5].Action)

	// The run's execution record went from STOPPED to FINISHED, under the executionId.
	require.Equal(t, first.ExecutionID, done.ExecutionID, "one run across the turns")
	var exec models.Execution
	h.doJSON("GET", "/api/v1/executions/"+done.ExecutionID, nil, 200, &exec)
	require.Equal(t, "FINISHED", exec.State)
	require.Equal(t, flowID, exec.AgentflowID)
	require.Equal(t, "hitl", exec.SessionID)
	var recorded []struct{ NodeID string }
	require.NoError(t, json.Unmarshal([]byte(exec.ExecutionData), &recorded))
	require.Len(t, recorded, len(done.Executed))
	var list struct {
		Data  []models.Execution `json:"data"`
		Total int                `json:"total"`
	}
	h.doJSON("GET", "/api/v1/executions?agentflowId="+flowID+"&state=FINISHED", nil, 200, &list)
	require.Equal(t, 1, list.Total)
	require.Equal(t, done.ExecutionID, list.Data[0].ID)
	status, body := h.do("GET", "/api/v1/executions/no-such-run", nil)
	requireFlowiseError(t, status, body, 404, "not found")
}

// TestAgentflowIterationRunsChildWorkflowsPerItem: an iteration node runs its child nodes once
// per item, each item its own child workflow (visible as such in the Temporal UI), with
// $iteration set; the node after it sees every item's answer.
func TestAgentflowIterationRunsChildWorkflowsPerItem(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-iter"})
	llm := afNode("llmAgentflow_0", "llmAgentflow", "Translate", map[string]any{
		"llmModel":       "chatOpenAI",
		"llmMessages":    []any{map[string]any{"role": "user", "content": "<p>Translate {{ $iteration.item }}</p>"}},
		"llmModelConfig": map[string]any{"credential": cred, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "llmModel": "chatOpenAI"},
	})
	llm["parentNode"] = "iterationAgentflow_0"
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("iterationAgentflow_0", "iterationAgentflow", "Each", map[string]any{"iterationInput": `<p>[{"item": "abc"}, {"item": "def"}]</p>`}),
		llm,
		afNode("directReplyAgentflow_0", "directReplyAgentflow", "Done", map[string]any{"directReplyMessage": "Done: {{ iterationAgentflow_0 }}"}),
	}, "edges": []any{
		afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "iterationAgentflow_0"),
		afEdge("iterationAgentflow_0", "iterationAgentflow_0-output-iterationAgentflow", "directReplyAgentflow_0"),
	}})
	require.NoError(t, err)
	flowID := h.createFlow("iterate", string(raw), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "go", "chatId": "iter"}, 200, &ans)
	answers, err := json.Marshal([]string{llmmock.Answer("Translate abc"), llmmock.Answer("Translate def")})
	require.NoError(t, err)
	require.Equal(t, "Done: "+string(answers), ans.Text)
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0", "llmAgentflow_0", "iterationAgentflow_0", "directReplyAgentflow_0"}, ans.ran())

	parent := node.WorkflowID(flowID, "iter")
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		desc, err := h.app.Temporal().DescribeWorkflowExecution(ctx, fmt.Sprintf("%s/iterationAgentflow_0/%d", parent, i), "")
		cancel()
		require.NoError(t, err, "item %d is a child workflow", i)
		require.Equal(t, parent, desc.GetWorkflowExecutionInfo().GetParentExecution().GetWorkflowId())
	}
}

// TestAgentflowAgentRemembersTheSession: an agent with memory gets the session's earlier
// messages, as its memory type says: all of them, or a summary its own model writes of all of
// them (conversationSummary) or of those beyond its token limit (conversationSummaryBuffer).
func TestAgentflowAgentRemembersTheSession(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-mem"})
	memoryFlow := func(memory map[string]any) string {
		inputs := map[string]any{
			"agentModel":        "chatOpenAI",
			"agentMessages":     []any{map[string]any{"role": "system", "content": "<p>Be brief.</p>"}},
			"agentEnableMemory": true,
			"agentModelConfig":  map[string]any{"credential": cred, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "agentModel": "chatOpenAI"},
		}
		for k, v := range memory {
			inputs[k] = v
		}
		start := map[string]any{"startInputType": "chatInput"}
		if memory["ephemeral"] == true {
			start["startEphemeralMemory"] = true
			delete(inputs, "ephemeral")
		}
		raw, err := json.Marshal(map[string]any{"nodes": []any{
			afNode("startAgentflow_0", "startAgentflow", "Start", start),
			afNode("agentAgentflow_0", "agentAgentflow", "Helper", inputs),
		}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "agentAgentflow_0")}})
		require.NoError(t, err)
		return h.createFlow("memory", string(raw), map[string]any{"type": "AGENTFLOW"})
	}
	// converse has two exchanges and returns the requests of the second.
	converse := func(flowID string) []llmmock.Request {
		h.mock.Reset()
		h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "my name is Ada", "chatId": "mem"}, 200, nil)
		h.mock.Reset()
		var ans agentAnswer
		h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "what is my name?", "chatId": "mem"}, 200, &ans)
		require.Equal(t, llmmock.Answer("what is my name?"), ans.Text)
		return h.mock.Requests()
	}
	roles := func(r llmmock.Request) [][2]string {
		var got [][2]string
		for _, m := range r.Messages {
			got = append(got, [2]string{m.Role, m.Content})
		}
		return got
	}

	reqs := converse(memoryFlow(map[string]any{"agentMemoryType": "allMessages"}))
	require.Len(t, reqs, 1)
	require.Equal(t, [][2]string{
		{"system", "Be brief."},
		{"user", "my name is Ada"},
		{"assistant", llmmock.Answer("my name is Ada")},
		{"user", "what is my name?"},
	}, roles(reqs[0]))

	// Start's startEphemeralMemory: each run starts without the session's earlier runs.
	reqs = converse(memoryFlow(map[string]any{"agentMemoryType": "allMessages", "ephemeral": true}))
	require.Len(t, reqs, 1)
	require.Equal(t, [][2]string{{"system", "Be brief."}, {"user", "what is my name?"}}, roles(reqs[0]))

	reqs = converse(memoryFlow(map[string]any{"agentMemoryType": "conversationSummary"}))
	require.Len(t, reqs, 2, "a summary, then the answer")
	summaryPrompt := reqs[0].Messages[0].Content
	require.Contains(t, summaryPrompt, "user: my name is Ada")
	require.Equal(t, [][2]string{
		{"system", "Be brief."},
		{"assistant", llmmock.Answer(summaryPrompt)},
		{"user", "what is my name?"},
	}, roles(reqs[1]))

	// A budget of 15 tokens keeps the last answer and summarizes the question before it.
	reqs = converse(memoryFlow(map[string]any{"agentMemoryType": "conversationSummaryBuffer", "agentMemoryMaxTokenLimit": 15}))
	require.Len(t, reqs, 2)
	summaryPrompt = reqs[0].Messages[0].Content
	require.Contains(t, summaryPrompt, "user: my name is Ada")
	require.NotContains(t, summaryPrompt, "assistant:")
	require.Equal(t, [][2]string{
		{"system", "Be brief."},
		{"user", "Previous conversation summary: " + llmmock.Answer(summaryPrompt)},
		{"assistant", llmmock.Answer("my name is Ada")},
		{"user", "what is my name?"},
	}, roles(reqs[1]))
}

// TestAgentflowTranslatorTemplate runs Flowise's own "Translator" agentflow template, edited
// only for its credential and model address, against the Gemini API stand-in.
func TestAgentflowTranslatorTemplate(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("googleGenerativeAI", map[string]any{"googleGenerativeAPIKey": "AIza-translator"})
	flowID := h.createFlow("Translator", h.loadFlow("marketplace/agentflowsv2/Translator.json", cred), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "good morning"}, 200, &ans)
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0"}, ans.ran())
	reqs := h.mock.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "/v1beta/models/gemini-2.0-flash:generateContent", reqs[0].Path)
	require.Equal(t, "AIza-translator", reqs[0].Headers.Get("X-Goog-Api-Key"))
	msgs := reqs[0].Messages
	require.Equal(t, "system", msgs[0].Role)
	require.Contains(t, msgs[0].Content, "translates English to Japanese")
	require.Equal(t, "English:\n\ngood morning\n\nJapanese:", msgs[1].Content, "the editor's rich text as plain text, the question in it")
	require.Equal(t, llmmock.Answer(msgs[1].Content), ans.Text)

	// Ending with an LLM node whose model streams: its tokens as they come.
	requireTokensFromTheNode(t, h.requireStreamsText(flowID, map[string]any{"question": "good morning"}, ans.Text))
}

// TestAgentflowSupervisorWorkerTemplate runs Flowise's "Supervisor Worker" template: the
// supervisor's structured answer (next worker, instructions) goes into $flow.state, and the
// condition on it picks the worker; here the stand-in picks FINISH, the else branch, whose
// worker runs on Gemini.
func TestAgentflowSupervisorWorkerTemplate(t *testing.T) {
	h := newHarness(t)
	// One credential carries the keys of both providers the template uses.
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-sup", "googleGenerativeAPIKey": "AIza-sup"})
	flowID := h.createFlow("Supervisor Worker", h.loadFlow("marketplace/agentflowsv2/Supervisor Worker.json", cred), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "build me a todo app"}, 200, &ans)
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0", "conditionAgentflow_0", "agentAgentflow_3"}, ans.ran())
	supervisor := ans.Executed[1].Data.Output
	require.Equal(t, "FINISH", supervisor["next"], "the structured answer's fields are the output")
	reqs := h.mock.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, "/v1/chat/completions", reqs[0].Path)
	require.Contains(t, reqs[1].Path, ":generateContent", "the FINISH worker runs on Gemini")
	require.Equal(t, llmmock.Answer(reqs[1].Messages[len(reqs[1].Messages)-1].Content), ans.Text)

	// Ending with an Agent without tools, after a structured LLM that does not end the run.
	requireTokensFromTheNode(t, h.requireStreamsText(flowID, map[string]any{"question": "build me a todo app"}, ans.Text))
}

// TestAgentflowConditionAgentPicksAScenario: the condition agent's model answers with one of
// the scenarios (the stand-in picks the first), and only that scenario's branch runs.
func TestAgentflowConditionAgentPicksAScenario(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-route"})
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("conditionAgentAgentflow_0", "conditionAgentAgentflow", "Router", map[string]any{
			"conditionAgentModel":        "chatOpenAI",
			"conditionAgentModelConfig":  map[string]any{"credential": cred, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "conditionAgentModel": "chatOpenAI"},
			"conditionAgentInstructions": "<p>Route the customer.</p>",
			"conditionAgentInput":        "<p>{{ question }}</p>",
			"conditionAgentScenarios":    []any{map[string]any{"scenario": "User wants a refund"}, map[string]any{"scenario": "User wants an item"}},
		}),
		afNode("directReplyAgentflow_0", "directReplyAgentflow", "Refunds", map[string]any{"directReplyMessage": "Refunds desk"}),
		afNode("directReplyAgentflow_1", "directReplyAgentflow", "Sales", map[string]any{"directReplyMessage": "Sales desk"}),
	}, "edges": []any{
		afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "conditionAgentAgentflow_0"),
		afEdge("conditionAgentAgentflow_0", "conditionAgentAgentflow_0-output-0", "directReplyAgentflow_0"),
		afEdge("conditionAgentAgentflow_0", "conditionAgentAgentflow_0-output-1", "directReplyAgentflow_1"),
	}})
	require.NoError(t, err)
	flowID := h.createFlow("router", string(raw), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "my order arrived broken"}, 200, &ans)
	require.Equal(t, "Refunds desk", ans.Text)
	require.Equal(t, []string{"startAgentflow_0", "conditionAgentAgentflow_0", "directReplyAgentflow_0"}, ans.ran())
	reqs := h.mock.Requests()
	require.Len(t, reqs, 1)
	require.Contains(t, reqs[0].Messages[0].Content, "- User wants an item", "the scenarios are in the instructions")
	require.Equal(t, "my order arrived broken", reqs[0].Messages[1].Content)
}

// TestAgentflowExecutesAnotherFlow: an Execute Flow node runs a classic chatflow as a child
// workflow, in a conversation of its own, and hands its answer on.
func TestAgentflowExecutesAnotherFlow(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-exec"})
	childID := h.createFlow("llm chain", h.loadFlow("llm-chain.json", cred), nil)
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("executeFlowAgentflow_0", "executeFlowAgentflow", "Ask the chain", map[string]any{
			"executeFlowSelectedFlow": childID, "executeFlowInput": "<p>{{ question }} (relayed)</p>",
		}),
		afNode("directReplyAgentflow_0", "directReplyAgentflow", "Reply", map[string]any{"directReplyMessage": "Chain said: {{ executeFlowAgentflow_0 }}"}),
	}, "edges": []any{
		afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "executeFlowAgentflow_0"),
		afEdge("executeFlowAgentflow_0", "executeFlowAgentflow_0-output-executeFlowAgentflow", "directReplyAgentflow_0"),
	}})
	require.NoError(t, err)
	flowID := h.createFlow("relay", string(raw), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "hello", "chatId": "relay"}, 200, &ans)
	require.Equal(t, "Chain said: "+llmmock.Answer("You are a benchmark bot. Reply to: hello (relayed)"), ans.Text)
	require.Equal(t, []string{"startAgentflow_0", "executeFlowAgentflow_0", "directReplyAgentflow_0"}, ans.ran())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desc, err := h.app.Temporal().DescribeWorkflowExecution(ctx, node.WorkflowID(flowID, "relay")+"/executeFlowAgentflow_0/1", "")
	require.NoError(t, err, "the other flow ran as a child workflow")
	require.Equal(t, node.WorkflowID(flowID, "relay"), desc.GetWorkflowExecutionInfo().GetParentExecution().GetWorkflowId())
	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+childID, nil, 200, &msgs)
	require.Len(t, msgs, 2, "the chain kept its own conversation")
	require.Equal(t, "hello (relayed)", msgs[0].Content)

	// Ending with the Execute Flow node: the answer is the other flow's, which the workflow
	// gets, and a streaming client gets it as a token all the same.
	raw, err = json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("executeFlowAgentflow_0", "executeFlowAgentflow", "Ask the chain", map[string]any{"executeFlowSelectedFlow": childID}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "executeFlowAgentflow_0")}})
	require.NoError(t, err)
	ending := h.createFlow("relay at the end", string(raw), map[string]any{"type": "AGENTFLOW"})
	h.doJSON("POST", "/api/v1/prediction/"+ending, map[string]any{"question": "hello", "chatId": "relay-end"}, 200, &ans)
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: hello"), ans.Text)
	h.requireStreamsText(ending, map[string]any{"question": "hello", "chatId": "relay-end-sse"}, ans.Text)
}

// agentWithTools is Start → an Agent offering the calculator and requestsGet.
func agentWithTools(t *testing.T, h *harness, credID string) string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("agentAgentflow_0", "agentAgentflow", "Helper", map[string]any{
			"agentModel":       "chatOpenAI",
			"agentModelConfig": map[string]any{"credential": credID, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "agentModel": "chatOpenAI"},
			"agentMessages":    []any{map[string]any{"role": "system", "content": "<p>Use your tools.</p>"}},
			"agentTools": []any{
				map[string]any{"agentSelectedTool": "calculator", "agentSelectedToolConfig": map[string]any{}},
				map[string]any{"agentSelectedTool": "requestsGet", "agentSelectedToolConfig": map[string]any{
					"requestsGetUrl": "<p>http://169.254.169.254/latest/meta-data/</p>", "requestsGetName": "read_metadata"}},
			},
		}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "agentAgentflow_0")}})
	require.NoError(t, err)
	return h.createFlow("tools", string(raw), map[string]any{"type": "AGENTFLOW"})
}

// TestAgentflowAgentCallsTools: the agent's model asks for a tool, the workflow runs the call
// as its own activity (tool.<name>), and the model answers from the result; a tool the
// policy refuses (SSRF) answers the model with the error instead of failing the run.
func TestAgentflowAgentCallsTools(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-tools"})
	flowID := agentWithTools(t, h, cred)

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": `call calculator with {"input":"6*7"}`, "chatId": "calc"}, 200, &ans)
	require.Equal(t, llmmock.ToolAnswer("42"), ans.Text)
	used, _ := ans.Executed[1].Data.Output["usedTools"].([]any)
	require.Len(t, used, 1)
	require.Equal(t, "calculator", used[0].(map[string]any)["tool"])
	reqs := h.mock.Requests()
	require.Len(t, reqs, 2, "one turn asked for the tool, the next answered")
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	require.Equal(t, "tool", last.Role)
	require.Equal(t, "42", last.Content)
	require.Contains(t, h.activityTypes(node.WorkflowID(flowID, "calc")), "tool.calculator")

	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{
		"question": `call read_metadata with {}`, "chatId": "ssrf"}, 200, &ans)
	require.Contains(t, ans.Text, "refused", "the model is told the request was refused")
	require.Contains(t, ans.Text, "169.254.169.254")
}

// TestAgentflowToolNode runs a tool directly, with arguments from variables, without a model.
func TestAgentflowToolNode(t *testing.T) {
	h := newHarness(t)
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("toolAgentflow_0", "toolAgentflow", "Compute", map[string]any{
			"toolAgentflowSelectedTool": "calculator",
			"toolInputArgs":             []any{map[string]any{"inputArgName": "input", "inputArgValue": "<p>{{ question }}</p>"}},
		}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "toolAgentflow_0")}})
	require.NoError(t, err)
	flowID := h.createFlow("tool", string(raw), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "(2+3)*4"}, 200, &ans)
	require.Equal(t, "20", ans.Text)
	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "process.exit(1)"})
	requireFlowiseError(t, status, body, 500, "is not an arithmetic expression")
	require.Empty(t, h.mock.Requests(), "no model was asked")
}

// TestAgentflowStreams: a streamed agentflow sends Flowise's events: start, the run's status,
// each node's progress, the last node's tokens, the executed data, the action when it stops
// for human input, metadata and end; the resumed run streams on the request that answers.
func TestAgentflowStreams(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-stream"})
	flowID := approvalFlow(t, h, cred)
	status, body := h.do("GET", "/api/v1/chatflows-streaming/"+flowID, nil)
	require.Equal(t, 200, status)
	require.JSONEq(t, `{"isStreaming":true}`, string(body))

	resp, events := h.stream(flowID, map[string]any{"question": "refund please", "chatId": "sse"})
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	names := eventNames(events)
	require.Equal(t, "start", names[0])
	require.Equal(t, "end", names[len(names)-1])
	require.Contains(t, names, "nextAgentFlow")
	require.Contains(t, names, "action")
	require.Contains(t, names, "agentFlowExecutedData")
	require.Contains(t, names, "metadata")
	var statuses []string
	for _, ev := range events {
		if ev.Event == "agentFlowEvent" {
			var s string
			require.NoError(t, json.Unmarshal(ev.Data, &s))
			statuses = append(statuses, s)
		}
	}
	require.Equal(t, []string{"INPROGRESS", "STOPPED"}, statuses)
	draft := llmmock.Answer("Draft a reply to: refund please")
	require.Equal(t, draft+"\n\nSend this? "+draft, tokens(t, events), "the stop streams the draft and the question")
	requireTokensFromTheNode(t, events)

	_, events = h.stream(flowID, map[string]any{"chatId": "sse", "humanInput": map[string]any{"type": "proceed"}})
	require.Equal(t, "Sent: "+draft, tokens(t, events), "the last node's reply arrives as tokens")
	require.Equal(t, "end", eventNames(events)[len(events)-1])

	// Rejected until the loop is out of turns: the run ends with the loop's fallback message,
	// which the workflow writes, and which the stream sends as a token all the same. (Each
	// rejection says something else: two identical answers in one chat would be taken for a
	// resend of one.)
	_, events = h.stream(flowID, map[string]any{"question": "refund please", "chatId": "sse-giveup"})
	for turns := 0; slices.Contains(eventNames(events), "action"); turns++ {
		require.Less(t, turns, 3, "the loop goes back at most twice")
		_, events = h.stream(flowID, map[string]any{"chatId": "sse-giveup",
			"humanInput": map[string]any{"type": "reject", "feedback": fmt.Sprintf("no, take %d", turns+2)}})
	}
	require.Equal(t, "Giving up.", tokens(t, events))
}

// TestAgentflowIterationsTemplate runs Flowise's "Iterations" template: each item of the
// iteration runs two LLM nodes (Gemini, then Ollama) in a child workflow, and an agent
// (OpenAI) answers after them.
func TestAgentflowIterationsTemplate(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-iter", "googleGenerativeAPIKey": "AIza-iter"})
	flowID := h.createFlow("Iterations", h.loadFlow("marketplace/agentflowsv2/Iterations.json", cred), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "go", "chatId": "iterations"}, 200, &ans)
	require.Equal(t, []string{
		"startAgentflow_0", "llmAgentflow_0", "llmAgentflow_1", "llmAgentflow_0", "llmAgentflow_1", "iterationAgentflow_0", "agentAgentflow_0",
	}, ans.ran())
	var paths []string
	for _, r := range h.mock.Requests() {
		paths = append(paths, r.Path)
	}
	require.Equal(t, []string{
		"/v1beta/models/gemini-2.0-flash:generateContent", "/api/chat",
		"/v1beta/models/gemini-2.0-flash:generateContent", "/api/chat",
		"/v1/chat/completions",
	}, paths)
	require.NotEmpty(t, ans.Text)

	// The nodes inside the iteration never stream; the agent after it does.
	requireTokensFromTheNode(t, h.requireStreamsText(flowID, map[string]any{"question": "go", "chatId": "iterations-sse"}, ans.Text))
}

// TestAgentflowStructuredOutputTemplate runs Flowise's "Structured Output" template on
// Anthropic's API, which has no structured-output parameter: the schema goes in as an
// instruction and the answer must parse as the object it describes.
func TestAgentflowStructuredOutputTemplate(t *testing.T) {
	h := newHarness(t)
	t.Setenv("ANTHROPIC_BASE_URL", h.mock.URL)
	cred := h.createCredential("anthropicApi", map[string]any{"anthropicApiKey": "sk-ant-structured"})
	flowID := h.createFlow("Structured Output", h.loadFlow("marketplace/agentflowsv2/Structured Output.json", cred), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "is the sky blue?"}, 200, &ans)
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0"}, ans.ran())
	var out struct {
		Output []struct{ Answer, Reason string } `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(ans.Text), &out), "the answer is the structured object: %s", ans.Text)
	require.Len(t, out.Output, 1, "answer: %s", ans.Text)
	require.NotEmpty(t, out.Output[0].Answer)
	require.Equal(t, out.Output, toStructs(ans.Executed[1].Data.Output["output"]))
	reqs := h.mock.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "/v1/messages", reqs[0].Path)
	require.True(t, strings.HasPrefix(reqs[0].Messages[0].Content, llmmock.SchemaInstruction))

	// Ending with an LLM with structured output: asked without streaming, its answer sent whole.
	events := h.requireStreamsText(flowID, map[string]any{"question": "is the sky blue?"}, ans.Text)
	requireTokensFromTheNode(t, events)
	require.Len(t, h.mock.Requests(), 2)
	require.False(t, h.mock.Requests()[1].Stream)
}

// toStructs re-decodes a structured output field for comparison.
func toStructs(v any) []struct{ Answer, Reason string } {
	raw, _ := json.Marshal(v)
	var out []struct{ Answer, Reason string }
	_ = json.Unmarshal(raw, &out)
	return out
}

// TestAgentflowGoogleSearchTool: the googleCustomSearch and serpAPI tools query their APIs
// (here stand-ins speaking them) with their own credentials, decrypted only in the tool's
// activity, and the agent answers from the results.
func TestAgentflowGoogleSearchTool(t *testing.T) {
	var gotKey, gotCX, gotQuery string
	search := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey, gotCX, gotQuery = r.URL.Query().Get("key"), r.URL.Query().Get("cx"), r.URL.Query().Get("q")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[{"title":"Temporal","link":"https://temporal.io","snippet":"Durable execution"}]}`))
	}))
	t.Cleanup(search.Close)
	t.Setenv("GOOGLE_CUSTOM_SEARCH_BASE_URL", search.URL)
	var serpKey, serpQuery string
	serp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serpKey, serpQuery = r.URL.Query().Get("api_key"), r.URL.Query().Get("q")
		_, _ = w.Write([]byte(`{"answer_box":{"answer":"Maxim and Samar"},"organic_results":[{"title":"x","link":"https://x"}]}`))
	}))
	t.Cleanup(serp.Close)
	t.Setenv("SERPAPI_BASE_URL", serp.URL)
	h := newHarness(t, allowLoopbackHTTP(t))
	model := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-search"})
	searchCred := h.createCredential("googleCustomSearchApi", map[string]any{"googleCustomSearchApiKey": "gcs-secret-key", "googleCustomSearchApiId": "engine-1"})
	serpCred := h.createCredential("serpApi", map[string]any{"serpApiKey": "serp-secret-key"})
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("agentAgentflow_0", "agentAgentflow", "Researcher", map[string]any{
			"agentModel":       "chatOpenAI",
			"agentModelConfig": map[string]any{"credential": model, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "agentModel": "chatOpenAI"},
			"agentTools": []any{
				map[string]any{"agentSelectedTool": "googleCustomSearch",
					"agentSelectedToolConfig": map[string]any{"credential": searchCred, "agentSelectedTool": "googleCustomSearch"}},
				map[string]any{"agentSelectedTool": "serpAPI",
					"agentSelectedToolConfig": map[string]any{"credential": serpCred, "agentSelectedTool": "serpAPI"}},
			},
		}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "agentAgentflow_0")}})
	require.NoError(t, err)
	flowID := h.createFlow("search", string(raw), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": `call google-custom-search with {"input":"durable execution"}`, "chatId": "search"}, 200, &ans)
	require.Equal(t, "gcs-secret-key", gotKey)
	require.Equal(t, "engine-1", gotCX)
	require.Equal(t, "durable execution", gotQuery)
	require.Contains(t, ans.Text, "https://temporal.io")
	requireNotInHistory(t, h, node.WorkflowID(flowID, "search"), "gcs-secret-key")

	// SerpAPI: its key in the query, the answer box preferred to the organic results.
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": `call search with {"input":"temporal founders"}`, "chatId": "serp"}, 200, &ans)
	require.Equal(t, "serp-secret-key", serpKey)
	require.Equal(t, "temporal founders", serpQuery)
	require.Equal(t, llmmock.ToolAnswer("Maxim and Samar"), ans.Text)
	requireNotInHistory(t, h, node.WorkflowID(flowID, "serp"), "serp-secret-key")
}

// requireNotInHistory fails when secret appears anywhere in a run's history.
func requireNotInHistory(t *testing.T, h *harness, workflowID, secret string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := h.app.Temporal().GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		require.NotContains(t, string(raw), secret, "event %d", ev.GetEventId())
	}
	require.NotContains(t, h.logs.String(), secret)
}

// TestAgentflowHumanInTheLoopTemplate runs Flowise's "Human In The Loop" template with its
// form input: the agent drafts, the run stops for approval showing the draft above the
// question, a rejection sends the reviewer's feedback back to the agent, an approval lets the
// LLM write the email (structured subject and body) and the Gmail tool send it to the form's
// sender, through a stand-in of the Gmail API. Each turn streams what its JSON answer says.
func TestAgentflowHumanInTheLoopTemplate(t *testing.T) {
	var sent []string
	gmail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Raw string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		raw, _ := base64.URLEncoding.DecodeString(body.Raw)
		require.Equal(t, "Bearer ya29.test-token", r.Header.Get("Authorization"))
		sent = append(sent, string(raw))
		_, _ = w.Write([]byte(`{"id":"msg-1"}`))
	}))
	t.Cleanup(gmail.Close)
	t.Setenv("GMAIL_API_BASE_URL", gmail.URL)
	h := newHarness(t, allowLoopbackHTTP(t))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-hitl", "access_token": "ya29.test-token",
		"googleCustomSearchApiKey": "gcs", "googleCustomSearchApiId": "cx"})
	flowData := editFlow(t, h.loadFlow("marketplace/agentflowsv2/Human In The Loop.json", cred), func(nodes []any, _ *[]any) {
		// The credentials a Flowise user picks for the tools.
		tool := nodeData(nodes, "toolAgentflow_0")["inputs"].(map[string]any)
		tool["toolAgentflowSelectedToolConfig"].(map[string]any)["credential"] = cred
		for _, entry := range nodeData(nodes, "agentAgentflow_0")["inputs"].(map[string]any)["agentTools"].([]any) {
			cfg, _ := entry.(map[string]any)["agentSelectedToolConfig"].(map[string]any)
			if cfg != nil {
				cfg["credential"] = cred
			}
		}
	})
	flowID := h.createFlow("Human In The Loop", flowData, map[string]any{"type": "AGENTFLOW"})
	// Each turn is asked as JSON in one chat and streamed in another, whose tokens add up to
	// the JSON answer's text: the stops' draft and question, then the Tool node's result.
	turn := func(body map[string]any) stoppedAnswer {
		t.Helper()
		h.mock.Reset()
		var ans stoppedAnswer
		body["chatId"] = "inbox"
		h.doJSON("POST", "/api/v1/prediction/"+flowID, body, 200, &ans)
		body["chatId"] = "inbox-sse"
		requireTokensFromTheNode(t, h.requireStreamsText(flowID, body, ans.Text))
		return ans
	}
	// lastMessages are the last n messages the model got in the JSON chat's turn.
	lastMessages := func(n int) []llmmock.Message {
		t.Helper()
		reqs := h.mock.Requests()
		require.Len(t, reqs, 2, "one model call in each chat")
		msgs := reqs[0].Messages
		require.GreaterOrEqual(t, len(msgs), n)
		return msgs[len(msgs)-n:]
	}
	const ask = "\n\nAre you sure you want to proceed?"

	// The form as the widget sends it, its fields in the form's order; the model gets Flowise's
	// "key: value" lines.
	first := turn(map[string]any{"form": json.RawMessage(`{"subject":"Order 42","body":"Where is my order?","from":"alice@example.com"}`)})
	formQuestion := "subject: Order 42\nbody: Where is my order?\nfrom: alice@example.com"
	require.Equal(t, []llmmock.Message{{Role: "user", Content: formQuestion}}, lastMessages(1))
	require.Equal(t, []string{"startAgentflow_0", "agentAgentflow_0", "humanInputAgentflow_0"}, first.ran())
	require.NotEmpty(t, first.Action.ID)
	require.Equal(t, llmmock.Answer(formQuestion)+ask, first.Text, "the agent's draft above the question")
	require.Equal(t, true, first.Action.Data["input"].(map[string]any)["humanInputEnableFeedback"], "the widget offers a feedback box")

	// The reviewer's feedback reaches the agent after the loop, as the user's words after the
	// stopped turn (the session's saved messages).
	second := turn(map[string]any{"humanInput": map[string]any{"type": "reject", "feedback": "more polite"}})
	require.Equal(t, []llmmock.Message{
		{Role: "user", Content: formQuestion},
		{Role: "assistant", Content: first.Text},
		{Role: "user", Content: "more polite"},
	}, lastMessages(3))
	require.NotEmpty(t, second.Action.ID)
	require.Equal(t, llmmock.Answer("more polite")+ask, second.Text)
	require.Empty(t, sent, "nothing is sent before approval")

	// Proceeding without feedback: the LLM gets the session so far and the widget's "Proceed".
	done := turn(map[string]any{"humanInput": map[string]any{"type": "proceed"}})
	require.Equal(t, []llmmock.Message{
		{Role: "user", Content: formQuestion},
		{Role: "assistant", Content: first.Text},
		{Role: "user", Content: "more polite"},
		{Role: "assistant", Content: second.Text},
		{Role: "user", Content: "Proceed"},
	}, lastMessages(5))
	require.Equal(t, "Email sent to alice@example.com (message msg-1)", done.Text)
	require.Len(t, sent, 2, "approved once in each chat, sent once in each")
	require.Contains(t, sent[0], "To: alice@example.com")
	require.Contains(t, sent[0], "Subject: mock subject")
	require.Equal(t, []string{
		"startAgentflow_0", "agentAgentflow_0", "humanInputAgentflow_0", "loopAgentflow_0",
		"agentAgentflow_0", "humanInputAgentflow_0", "llmAgentflow_0", "toolAgentflow_0",
	}, done.ran())
	requireNotInHistory(t, h, node.WorkflowID(flowID, "inbox"), "ya29.test-token")
}
