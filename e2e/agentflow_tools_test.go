package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// eventsAPI is the Event Management server of Flowise's "Interacting with API" tutorial,
// listening where the template expects it (localhost:5566); it records what it was asked.
type eventsAPI struct {
	mu   sync.Mutex
	seen []string
}

func startEventsAPI(t *testing.T) *eventsAPI {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:5566")
	require.NoError(t, err, "the template calls http://localhost:5566")
	api := &eventsAPI{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		api.seen = append(api.seen, r.Method+" "+r.URL.RequestURI())
		api.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/events":
			_, _ = w.Write([]byte(`[{"id":"1","name":"Tech Conference 2024"},{"id":"2","name":"Music Festival"}]`))
		case r.URL.Path == "/events/2":
			// The second agent reads the first one's answer (Flowise's runtime chat history),
			// which quotes this: it steers the stand-in model to the toolkit's operation.
			_, _ = w.Write([]byte(`{"id":"2","name":"Music Festival","note":"call listEvents with {}"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return api
}

func (a *eventsAPI) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// eventsSpec is the OpenAPI document a user uploads into the template's OpenAPI toolkit.
const eventsSpec = `openapi: 3.0.0
info: {title: Events, version: "1.0"}
servers: [{url: "http://localhost:5566"}]
paths:
  /events:
    get:
      operationId: listEvents
      summary: List all events
      responses: {"200": {description: ok}}
`

// TestAgentflowInteractingWithAPITemplate runs Flowise's "Interacting With API" template
// against the tutorial's events server. As exported, its first agent calls the server with
// the configured GET tool (path parameter filled in), and the second agent's OpenAPI toolkit,
// which has no spec uploaded, stops the run with a clear error. With the spec uploaded and the
// HTTP node's URL filled in, as a user completes the template, the whole flow runs: the
// Anthropic agent calls the API through the toolkit's custom code, the HTTP node reads it.
func TestAgentflowInteractingWithAPITemplate(t *testing.T) {
	events := startEventsAPI(t)
	h := newHarness(t, allowLoopbackHTTP(t))
	t.Setenv("ANTHROPIC_BASE_URL", h.mock.URL)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-api", "anthropicApiKey": "sk-ant-api"})
	exported := h.loadFlow("marketplace/agentflowsv2/Interacting With API.json", cred)
	asIs := h.createFlow("Interacting With API", exported, map[string]any{"type": "AGENTFLOW"})
	question := `call get_events with {"queryParams":{"id":"2"}}`

	status, body := h.do("POST", "/api/v1/prediction/"+asIs, map[string]any{"question": question, "chatId": "as-is"})
	requireFlowiseError(t, status, body, 500, "no OpenAPI spec")
	require.Equal(t, []string{"GET /events/2"}, events.requests(), "the first agent called the API before the second failed")

	completed := editFlow(t, exported, func(nodes []any, _ *[]any) {
		for _, entry := range nodeData(nodes, "agentAgentflow_1")["inputs"].(map[string]any)["agentTools"].([]any) {
			cfg := entry.(map[string]any)["agentSelectedToolConfig"].(map[string]any)
			cfg["yamlFile"] = "data:application/x-yaml;base64," + base64.StdEncoding.EncodeToString([]byte(eventsSpec)) + ",filename:events.yaml"
		}
		nodeData(nodes, "httpAgentflow_0")["inputs"].(map[string]any)["url"] = "http://localhost:5566/events"
	})
	flowID := h.createFlow("Interacting With API (completed)", completed, map[string]any{"type": "AGENTFLOW"})
	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": question, "chatId": "done"}, 200, &ans)
	require.Equal(t, []string{"startAgentflow_0", "agentAgentflow_0", "agentAgentflow_1", "httpAgentflow_0"}, ans.ran())
	require.Equal(t, []string{"GET /events/2", "GET /events/2", "GET /events", "GET /events"}, events.requests())
	require.Contains(t, ans.Text, "Music Festival", "the HTTP node's answer ends the flow")

	var anthropic []llmmock.Request
	for _, r := range h.mock.Requests() {
		if r.Path == "/v1/messages" {
			anthropic = append(anthropic, r)
		}
	}
	require.Len(t, anthropic, 2, "the Anthropic agent asked for the tool, then answered from its result")
	// The second agent sees the run's chat history: the question, then the first agent's
	// answer as a user message (its agentReturnResponseAs).
	first, _ := ans.Executed[1].Data.Output["content"].(string)
	msgs := anthropic[0].Messages
	require.Equal(t, llmmock.Message{Role: "user", Content: question}, msgs[len(msgs)-2])
	require.Equal(t, llmmock.Message{Role: "user", Content: first}, msgs[len(msgs)-1])
	require.Contains(t, h.activityTypes(node.WorkflowID(flowID, "done")), "tool.openAPIToolkit")

	// Ending with an HTTP node, which Flowise does not stream: the API sends its answer as the
	// stream closes, so that the tokens still add up to the text.
	h.requireStreamsText(flowID, map[string]any{"question": question, "chatId": "done-sse"}, ans.Text)
}

// TestAgentflowAgentsHandoffTemplate runs Flowise's "Agents Handoff" template: the condition
// agent routes each message to one of three agents on three providers (Gemini, Anthropic with
// Google search, Groq), and only that agent runs.
func TestAgentflowAgentsHandoffTemplate(t *testing.T) {
	var queries []string
	search := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.Query().Get("q"))
		_, _ = w.Write([]byte(`{"items":[{"title":"Red shoes","link":"https://shop.example/red","snippet":"In stock"}]}`))
	}))
	t.Cleanup(search.Close)
	t.Setenv("GOOGLE_CUSTOM_SEARCH_BASE_URL", search.URL)
	h := newHarness(t, allowLoopbackHTTP(t))
	t.Setenv("ANTHROPIC_BASE_URL", h.mock.URL)
	t.Setenv("GROQ_BASE_URL", h.mock.URL+"/v1")
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-a", "anthropicApiKey": "sk-ant", "googleGenerativeAPIKey": "g-key",
		"groqApiKey": "gsk", "googleCustomSearchApiKey": "gcs", "googleCustomSearchApiId": "cx"})
	flowData := editFlow(t, h.loadFlow("marketplace/agentflowsv2/Agents Handoff.json", cred), func(nodes []any, _ *[]any) {
		// The search credential a Flowise user picks for the sales agent's tool.
		for _, entry := range nodeData(nodes, "agentAgentflow_1")["inputs"].(map[string]any)["agentTools"].([]any) {
			entry.(map[string]any)["agentSelectedToolConfig"].(map[string]any)["credential"] = cred
		}
	})
	flowID := h.createFlow("Agents Handoff", flowData, map[string]any{"type": "AGENTFLOW"})

	cases := []struct {
		question, agent, path string
		turns                 int
	}{
		{"User is asking for refund: my order arrived broken", "agentAgentflow_0", "/v1beta/models/gemini-2.0-flash:generateContent", 1},
		{`User is looking for item: call google-custom-search with {"input":"red shoes"}`, "agentAgentflow_1", "/v1/messages", 2},
		{"User is chatting casually or asking general question: hello there", "agentAgentflow_2", "/v1/chat/completions", 1},
	}
	for _, c := range cases {
		h.mock.Reset()
		var ans agentAnswer
		h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": c.question}, 200, &ans)
		require.Equal(t, []string{"startAgentflow_0", "conditionAgentAgentflow_0", c.agent}, ans.ran(), c.question)
		reqs := h.mock.Requests()
		require.Len(t, reqs, 1+c.turns, "the router, then the agent's turns")
		for _, r := range reqs[1:] {
			require.Equal(t, c.path, r.Path, "%s answers on its own provider", c.agent)
		}
		require.NotEmpty(t, ans.Text)
		// An agent without tools streams; the one that searched sends its answer whole.
		requireTokensFromTheNode(t, h.requireStreamsText(flowID, map[string]any{"question": c.question}, ans.Text))
	}
	require.Equal(t, []string{"red shoes", "red shoes"}, queries, "only the sales agent searched (asked as JSON, then streamed)")
}

// customToolFlow is Start → an Agent offering a custom tool that needs a person's approval,
// and another agentflow as a tool.
func customToolFlow(t *testing.T, h *harness, credID, toolID, childID string) string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("agentAgentflow_0", "agentAgentflow", "Clerk", map[string]any{
			"agentModel":       "chatOpenAI",
			"agentModelConfig": map[string]any{"credential": credID, "modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "agentModel": "chatOpenAI"},
			"agentTools": []any{
				map[string]any{"agentSelectedTool": "customTool", "agentSelectedToolRequiresHumanInput": true,
					"agentSelectedToolConfig": map[string]any{"selectedTool": toolID, "agentSelectedTool": "customTool"}},
				map[string]any{"agentSelectedTool": "agentAsTool", "agentSelectedToolConfig": map[string]any{
					"selectedAgentflow": childID, "name": "ask_desk", "description": "Ask the help desk", "returnDirect": true,
					"agentSelectedTool": "agentAsTool"}},
			},
		}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "agentAgentflow_0")}})
	require.NoError(t, err)
	return h.createFlow("clerk", string(raw), map[string]any{"type": "AGENTFLOW"})
}

// deskFlow is an agentflow that echoes its question: Start → Direct Reply.
func deskFlow(t *testing.T) string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("directReplyAgentflow_0", "directReplyAgentflow", "Desk", map[string]any{"directReplyMessage": "<p>Desk got: {{ question }}</p>"}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "directReplyAgentflow_0")}})
	require.NoError(t, err)
	return string(raw)
}

// TestAgentflowCustomToolNeedsApproval: a custom JavaScript tool (from /api/v1/tools) marked
// "Require Human Input" stops the run before it runs; proceeding runs it once with the model's
// arguments, rejecting tells the model instead and never runs it; a second answer is refused.
// Another agentflow offered as a tool runs as a child workflow; with returnDirect its answer
// is the agent's.
func TestAgentflowCustomToolNeedsApproval(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-tools"})
	var tool struct{ ID string }
	h.doJSON("POST", "/api/v1/tools", map[string]any{
		"name": "add_numbers", "description": "Adds two numbers",
		"schema": `[{"property":"a","type":"number","required":true},{"property":"b","type":"number","required":true}]`,
		"func":   "return `sum=${$a + $b} for ${$flow.chatId}`",
	}, 200, &tool)
	childID := h.createFlow("desk", deskFlow(t), map[string]any{"type": "AGENTFLOW"})
	flowID := customToolFlow(t, h, cred, tool.ID, childID)

	// Proceed: the tool runs once, with the model's arguments and $flow.
	var stopped stoppedAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": `call add_numbers with {"a":2,"b":3}`, "chatId": "yes"}, 200, &stopped)
	require.Equal(t, "agentAgentflow_0", stopped.Action.Data["nodeId"])
	require.Contains(t, stopped.Text, "Attempting to use tool")
	require.Contains(t, stopped.Text, `"add_numbers"`)
	var done agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"chatId": "yes", "humanInput": map[string]any{"type": "proceed"}}, 200, &done)
	require.Equal(t, llmmock.ToolAnswer("sum=5 for yes"), done.Text)
	// The same answer resent (its response was lost) gets the run's answer, and runs nothing;
	// another answer to a run that waits for none is refused.
	var again agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"chatId": "yes", "humanInput": map[string]any{"type": "proceed"}}, 200, &again)
	require.Equal(t, done.Text, again.Text)
	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"chatId": "yes", "humanInput": map[string]any{"type": "reject"}})
	requireFlowiseError(t, status, body, 409, "not waiting for human input")
	var toolRuns int
	for _, name := range h.activityTypes(node.WorkflowID(flowID, "yes")) {
		if name == "tool.customTool" {
			toolRuns++
		}
	}
	require.Equal(t, 1, toolRuns, "approved once, run once")

	// Reject: the model is told, the tool never runs.
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": `call add_numbers with {"a":1,"b":1}`, "chatId": "no"}, 200, &stopped)
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"chatId": "no", "humanInput": map[string]any{"type": "reject", "feedback": "not now"}}, 200, &done)
	require.Contains(t, done.Text, "rejected")
	require.Contains(t, done.Text, "not now")
	require.NotContains(t, h.activityTypes(node.WorkflowID(flowID, "no")), "tool.customTool")

	// Another agentflow as a tool: a child workflow in a conversation of its own, whose
	// answer is the agent's own (returnDirect): the model is not asked again.
	h.mock.Reset()
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": `call ask_desk with {"input":"where is my parcel"}`, "chatId": "desk"}, 200, &done)
	require.Equal(t, "Desk got: where is my parcel", done.Text)
	require.Len(t, h.mock.Requests(), 1, "one model turn asked for the tool; its answer went straight back")
	require.True(t, strings.Contains(strings.Join(h.activityTypes(node.WorkflowID(flowID, "desk")), ","), "tool.agentAsTool"))

	// A flow run as a tool cannot stop for a person (nobody could answer it): the model is told.
	asker := customToolFlow(t, h, cred, tool.ID, approvalFlow(t, h, cred))
	h.doJSON("POST", "/api/v1/prediction/"+asker, map[string]any{"question": `call ask_desk with {"input":"refund"}`, "chatId": "nested"}, 200, &done)
	require.Contains(t, done.Text, "human input is not supported in a flow run by another flow")
}

// TestAgentflowPersistsStatePerSession: with startPersistState, each run of a session starts
// from the state the session's previous run ended with; another session starts afresh.
func TestAgentflowPersistsStatePerSession(t *testing.T) {
	h := newHarness(t)
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput",
			"startState": []any{map[string]any{"key": "visits", "value": "0"}}, "startPersistState": true}),
		afNode("customFunctionAgentflow_0", "customFunctionAgentflow", "Count", map[string]any{
			"customFunctionJavascriptFunction": "return String(Number($flow.state.visits) + 1)",
			"customFunctionUpdateState":        []any{map[string]any{"key": "visits", "value": "{{ output }}"}},
		}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "customFunctionAgentflow_0")}})
	require.NoError(t, err)
	flowID := h.createFlow("visits", string(raw), map[string]any{"type": "AGENTFLOW"})

	visits := 0
	visit := func(session string) string {
		// Each visit asks something new: the same request again would be a resend, which
		// gets the first one's answer.
		visits++
		var ans agentAnswer
		h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": fmt.Sprintf("visit %d", visits), "overrideConfig": map[string]any{"sessionId": session}}, 200, &ans)
		return ans.Text
	}
	require.Equal(t, "1", visit("alice"))
	require.Equal(t, "2", visit("alice"), "the state carried over from alice's last run")
	require.Equal(t, "1", visit("bob"), "bob's session has its own state")
	require.Equal(t, "3", visit("alice"))
}

// aiPaper is a document store the Simple RAG template's user upserted in advance: three
// passages, embedded through the model stand-in's embeddings API.
func aiPaper(t *testing.T, h *harness, credID string) string {
	t.Helper()
	var store struct{ ID string }
	h.doJSON("POST", "/api/v1/document-store/store", map[string]any{"name": "AI-Paper", "description": "A survey of AIGC"}, 200, &store)
	for _, text := range []string{
		"AIGC means artificial intelligence generated content: text, images and music made by models.",
		"Diffusion models generate images by removing noise step by step.",
		"The survey closes with open challenges such as copyright and evaluation.",
	} {
		h.doJSON("POST", "/api/v1/document-store/upsert/"+store.ID, map[string]any{
			"loader":    map[string]any{"name": "plainText", "config": map[string]any{"text": text}},
			"splitter":  map[string]any{"name": "recursiveCharacterTextSplitter", "config": map[string]any{"chunkSize": 1000, "chunkOverlap": 200}},
			"embedding": map[string]any{"name": "openAIEmbeddings", "config": map[string]any{"credential": credID, "basepath": h.mock.URL + "/v1"}},
		}, 200, nil)
	}
	return store.ID
}

// TestAgentflowSimpleRAGTemplate runs Flowise's "Simple RAG" template: its agent searches the
// document store it knows (here one the test upserts, picked in the node as a Flowise user
// picks theirs) through a retriever tool, answers from the passages, and reports them as
// source documents. A Retriever node searches the same store without a model.
func TestAgentflowSimpleRAGTemplate(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-rag"})
	storeID := aiPaper(t, h, cred)
	flowData := editFlow(t, h.loadFlow("marketplace/agentflowsv2/Simple RAG.json", cred), func(nodes []any, _ *[]any) {
		for _, k := range nodeData(nodes, "agentAgentflow_0")["inputs"].(map[string]any)["agentKnowledgeDocumentStores"].([]any) {
			k.(map[string]any)["documentStore"] = storeID + ":AI-Paper"
		}
	})
	flowID := h.createFlow("Simple RAG", flowData, map[string]any{"type": "AGENTFLOW"})

	var ans struct {
		agentAnswer
		SourceDocuments []struct {
			PageContent string         `json:"pageContent"`
			Metadata    map[string]any `json:"metadata"`
		} `json:"sourceDocuments"`
	}
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": `call ai-paper with {"input":"what does AIGC mean"}`}, 200, &ans)
	require.Equal(t, []string{"startAgentflow_0", "agentAgentflow_0"}, ans.ran())
	require.Len(t, ans.SourceDocuments, 3, "every passage, best first")
	require.Contains(t, ans.SourceDocuments[0].PageContent, "AIGC means")
	var passages []string
	for _, d := range ans.SourceDocuments {
		passages = append(passages, d.PageContent)
	}
	require.Equal(t, llmmock.ToolAnswer(strings.Join(passages, "\n\n")), ans.Text,
		"the model read the passages (not the documents' JSON) and answered from them")
	// The agent answered after a tool call, which never streams: its answer is sent whole.
	requireTokensFromTheNode(t, h.requireStreamsText(flowID, map[string]any{"question": `call ai-paper with {"input":"what does AIGC mean"}`}, ans.Text))

	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}),
		afNode("retrieverAgentflow_0", "retrieverAgentflow", "Look up", map[string]any{
			"retrieverKnowledgeDocumentStores": []any{map[string]any{"documentStore": storeID + ":AI-Paper"}},
			"retrieverQuery":                   "<p>{{ question }}</p>", "outputFormat": "text",
		}),
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "retrieverAgentflow_0")}})
	require.NoError(t, err)
	retriever := h.createFlow("retriever", string(raw), map[string]any{"type": "AGENTFLOW"})
	h.mock.Reset()
	var found agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+retriever, map[string]any{"question": "how do diffusion models generate images"}, 200, &found)
	require.True(t, strings.HasPrefix(found.Text, "Diffusion models generate images"), found.Text)
	require.Len(t, strings.Split(found.Text, "\n"), 3)
	for _, r := range h.mock.Requests() {
		require.NotEqual(t, "/v1/chat/completions", r.Path, "no chat model was asked")
	}
	requireTokensFromTheNode(t, h.requireStreamsText(retriever, map[string]any{"question": "how do diffusion models generate images"}, found.Text))
}

// TestAgentflowHTTPNodeAuthAndResponseType: an HTTP node sends its credential as Flowise does
// (here a bearer token, decrypted only in the node's activity) and returns a binary answer as
// base64 when its responseType asks for it.
func TestAgentflowHTTPNodeAuthAndResponseType(t *testing.T) {
	var auth string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte{0xff, 0x00, 'h', 'i'})
	}))
	t.Cleanup(api.Close)
	h := newHarness(t, allowLoopbackHTTP(t))
	cred := h.createCredential("httpBearerToken", map[string]any{"token": "bearer-secret-token"})
	httpNode := afNode("httpAgentflow_0", "httpAgentflow", "Fetch", map[string]any{"method": "GET", "url": api.URL + "/blob", "responseType": "base64"})
	httpNode["data"].(map[string]any)["credential"] = cred
	raw, err := json.Marshal(map[string]any{"nodes": []any{
		afNode("startAgentflow_0", "startAgentflow", "Start", map[string]any{"startInputType": "chatInput"}), httpNode,
	}, "edges": []any{afEdge("startAgentflow_0", "startAgentflow_0-output-startAgentflow", "httpAgentflow_0")}})
	require.NoError(t, err)
	flowID := h.createFlow("http auth", string(raw), map[string]any{"type": "AGENTFLOW"})

	var ans agentAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "go", "chatId": "auth"}, 200, &ans)
	require.Equal(t, "Bearer bearer-secret-token", auth)
	require.Equal(t, base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 'h', 'i'}), ans.Text)
	requireNotInHistory(t, h, node.WorkflowID(flowID, "auth"), "bearer-secret-token")
}
