package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// Classic chatflow agents: the model's turns and the tools' calls each run as their own
// activity, and the answer carries usedTools as Flowise's does.

// cfEdge wires source's output into target's input.
func cfEdge(source, target, input string) map[string]any {
	return map[string]any{"source": source, "sourceHandle": source + "-output-" + source, "target": target, "targetHandle": target + "-input-" + input}
}

func flowJSON(t *testing.T, nodes, edges []any) string {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"nodes": nodes, "edges": edges})
	require.NoError(t, err)
	return string(raw)
}

// pointNode sets a credential on one node of flowData: the edit a Flowise user makes to a
// tool that needs one.
func pointNode(t *testing.T, flowData, nodeID, cred string) string {
	t.Helper()
	var g map[string]any
	require.NoError(t, json.Unmarshal([]byte(flowData), &g))
	for _, n := range g["nodes"].([]any) {
		if n := n.(map[string]any); n["id"] == nodeID {
			n["data"].(map[string]any)["credential"] = cred
		}
	}
	raw, err := json.Marshal(g)
	require.NoError(t, err)
	return string(raw)
}

// agentReply is a chatflow answer with an agent's extras.
type agentReply struct {
	predictionAnswer
	UsedTools []struct {
		Tool       string         `json:"tool"`
		ToolInput  map[string]any `json:"toolInput"`
		ToolOutput string         `json:"toolOutput"`
	} `json:"usedTools"`
}

func (h *harness) predictAgent(flowID string, body map[string]any) agentReply {
	h.t.Helper()
	var out agentReply
	h.doJSON("POST", "/api/v1/prediction/"+flowID, body, 200, &out)
	return out
}

// serpStandIn answers SerpAPI's search with an answer box, recording the queries and keys.
type serpStandIn struct {
	mu      sync.Mutex
	queries []string
	keys    []string
}

func newSerpStandIn(t *testing.T, answer string) *serpStandIn {
	s := &serpStandIn{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.queries, s.keys = append(s.queries, r.URL.Query().Get("q")), append(s.keys, r.URL.Query().Get("api_key"))
		s.mu.Unlock()
		_, _ = w.Write([]byte(`{"answer_box":{"answer":"` + answer + `"}}`))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("SERPAPI_BASE_URL", srv.URL)
	return s
}

// TestMarketplaceToolAgent runs Flowise's "Tool Agent" template (buffer memory, calculator,
// SerpAPI, ChatOpenAI, Tool Agent), changed only in its credentials and addresses: the model
// asks for the calculator, then for a search; each model turn and each tool call is its own
// activity; the answer reports the tools in JSON and in the stream, and the next turn sees
// the first in memory.
func TestMarketplaceToolAgent(t *testing.T) {
	serp := newSerpStandIn(t, "Maxim and Samar")
	h := newHarness(t, allowLoopbackHTTP(t))
	openAI := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-tool-agent"})
	serpCred := h.createCredential("serpApi", map[string]any{"serpApiKey": "serp-secret"})
	flowData := pointNode(t, h.loadFlow("marketplace/chatflows/Tool Agent.json", openAI), "serpAPI_0", serpCred)
	id := h.createFlow("tool agent", flowData, nil)

	question := `call calculator with {"input":"6*7"} then call search with {"input":"temporal founders"}`
	ans := h.predictAgent(id, map[string]any{"question": question, "chatId": "c1"})
	require.Equal(t, llmmock.ToolAnswer("Maxim and Samar"), ans.Text)
	require.Equal(t, "Buffer Memory", ans.MemoryType)

	// Three model turns: the first two asked for a tool each, the third answered.
	reqs := h.mock.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, []string{"calculator", "search"}, reqs[0].Tools)
	require.Equal(t, "Bearer sk-tool-agent", reqs[0].Headers.Get("Authorization"))
	require.Equal(t, []llmmock.Message{{Role: "system", Content: "You are a helpful AI assistant."}, {Role: "user", Content: question}}, reqs[0].Messages)
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	require.Equal(t, "tool", last.Role)
	require.Equal(t, "42", last.Content, "the calculator's result")
	last = reqs[2].Messages[len(reqs[2].Messages)-1]
	require.Equal(t, "Maxim and Samar", last.Content, "the search's result")
	require.Equal(t, []string{"temporal founders"}, serp.queries)
	require.Equal(t, []string{"serp-secret"}, serp.keys)

	require.Len(t, ans.UsedTools, 2)
	require.Equal(t, "calculator", ans.UsedTools[0].Tool)
	require.Equal(t, map[string]any{"input": "6*7"}, ans.UsedTools[0].ToolInput)
	require.Equal(t, "42", ans.UsedTools[0].ToolOutput)
	require.Equal(t, "search", ans.UsedTools[1].Tool)
	require.Equal(t, map[string]any{"input": "temporal founders"}, ans.UsedTools[1].ToolInput)
	require.Equal(t, "Maxim and Samar", ans.UsedTools[1].ToolOutput)

	require.Equal(t, []string{
		"node.bufferMemory", "node.chatOpenAI",
		"node.toolAgent", "tool.calculator", "node.toolAgent", "tool.serpAPI", "node.toolAgent",
		"chat.saveMessages",
	}, h.activityTypes(node.WorkflowID(id, "c1")), "tool nodes run no activity of their own; the sticky note is no step")
	require.NotContains(t, h.historyJSON(node.WorkflowID(id, "c1")), "serp-secret")

	// The turn is stored with its tools, as Flowise stores them.
	var msgs []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+id+"?chatId=c1", nil, 200, &msgs)
	require.Len(t, msgs, 2)
	require.Contains(t, msgs[1]["usedTools"], `"toolOutput":"42"`)

	// The next turn sees the first in memory.
	h.mock.Reset()
	second := h.predictAgent(id, map[string]any{"question": "what did you find?", "chatId": "c1"})
	require.Equal(t, llmmock.Answer("what did you find?"), second.Text)
	require.Empty(t, second.UsedTools)
	reqs = h.mock.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, []llmmock.Message{
		{Role: "system", Content: "You are a helpful AI assistant."},
		{Role: "user", Content: question},
		{Role: "assistant", Content: ans.Text},
		{Role: "user", Content: "what did you find?"},
	}, reqs[0].Messages)

	// Streaming: the answer as tokens, then the tools, as Flowise streams them.
	resp, events := h.stream(id, map[string]any{"question": `call calculator with {"input":"2+3"}`, "chatId": "s1"})
	require.Equal(t, 200, resp.StatusCode)
	names := eventNames(events)
	require.Equal(t, "start", names[0])
	require.Equal(t, []string{"usedTools", "metadata", "end"}, names[len(names)-3:])
	require.Equal(t, llmmock.ToolAnswer("5"), tokens(t, events))
	var used []map[string]any
	require.NoError(t, json.Unmarshal(events[len(events)-3].Data, &used))
	require.Equal(t, []map[string]any{{"tool": "calculator", "toolInput": map[string]any{"input": "2+3"}, "toolOutput": "5"}}, used)
}

// TestChatflowAgents: a tool agent calling two tools, a chain offered as a tool, and the other
// agent kinds answering with a tool and remembering the turn; a file tool is refused.
func TestChatflowAgents(t *testing.T) {
	var weatherQueries []string
	var mu sync.Mutex
	weather := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		weatherQueries = append(weatherQueries, r.URL.RawQuery)
		mu.Unlock()
		_, _ = w.Write([]byte("sunny in Paris"))
	}))
	t.Cleanup(weather.Close)
	var serperKeys, serperBodies []string
	serper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		serperKeys, serperBodies = append(serperKeys, r.Header.Get("X-API-KEY")), append(serperBodies, string(body))
		mu.Unlock()
		_, _ = w.Write([]byte(`{"organic":[{"title":"Temporal","link":"https://temporal.io","snippet":"Durable execution"}]}`))
	}))
	t.Cleanup(serper.Close)
	t.Setenv("SERPER_BASE_URL", serper.URL)
	h := newHarness(t, allowLoopbackHTTP(t))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-agents"})
	model := func() map[string]any {
		return withCredential(cfNode("chatOpenAI_0", "chatOpenAI", "Chat Models",
			map[string]any{"modelName": "gpt-4o-mini", "basepath": h.mock.URL + "/v1", "streaming": true}), cred)
	}

	t.Run("tool agent with two tools", func(t *testing.T) {
		h.mock.Reset()
		id := h.createFlow("two tools", flowJSON(t, []any{
			cfNode("calculator_0", "calculator", "Tools", map[string]any{}),
			cfNode("requestsGet_0", "requestsGet", "Tools", map[string]any{
				"requestsGetUrl": weather.URL, "requestsGetName": "weather", "requestsGetDescription": "today's weather"}),
			model(),
			cfNode("toolAgent_0", "toolAgent", "Agents", map[string]any{
				"tools": []any{ref("calculator_0"), ref("requestsGet_0")}, "model": ref("chatOpenAI_0"),
				"systemMessage": "Be brief.", "maxIterations": ""}),
		}, []any{
			cfEdge("calculator_0", "toolAgent_0", "tools"), cfEdge("requestsGet_0", "toolAgent_0", "tools"),
			cfEdge("chatOpenAI_0", "toolAgent_0", "model"),
		}), nil)
		question := `call calculator with {"input":"1+2"} then call weather with {}`
		ans := h.predictAgent(id, map[string]any{"question": question, "chatId": "two"})
		require.Equal(t, llmmock.ToolAnswer("sunny in Paris"), ans.Text)
		require.Len(t, ans.UsedTools, 2)
		require.Equal(t, "calculator", ans.UsedTools[0].Tool)
		require.Equal(t, "3", ans.UsedTools[0].ToolOutput)
		require.Equal(t, "weather", ans.UsedTools[1].Tool)
		require.Equal(t, "sunny in Paris", ans.UsedTools[1].ToolOutput)
		reqs := h.mock.Requests()
		require.Len(t, reqs, 3)
		require.Equal(t, []string{"calculator", "weather"}, reqs[0].Tools)
		require.Equal(t, llmmock.Message{Role: "system", Content: "Be brief."}, reqs[0].Messages[0])
		require.Equal(t, []string{"node.chatOpenAI", "node.toolAgent", "tool.calculator", "node.toolAgent", "tool.requestsGet", "node.toolAgent", "chat.saveMessages"},
			h.activityTypes(node.WorkflowID(id, "two")))

		_, events := h.stream(id, map[string]any{"question": question, "chatId": "two-streamed"})
		names := eventNames(events)
		require.Equal(t, []string{"usedTools", "metadata", "end"}, names[len(names)-3:])
		require.Equal(t, llmmock.ToolAnswer("sunny in Paris"), tokens(t, events))
		var used []map[string]any
		require.NoError(t, json.Unmarshal(events[len(events)-3].Data, &used))
		require.Len(t, used, 2)
		require.Equal(t, "weather", used[1]["tool"])
	})

	t.Run("tool agent with a chat prompt template", func(t *testing.T) {
		h.mock.Reset()
		id := h.createFlow("prompted", flowJSON(t, []any{
			cfNode("chatPromptTemplate_0", "chatPromptTemplate", "Prompts", map[string]any{"systemMessagePrompt": "You answer as a {role}.",
				"humanMessagePrompt": "Question: {input}", "promptValues": `{"role":"pirate"}`}),
			cfNode("calculator_0", "calculator", "Tools", map[string]any{}),
			model(),
			cfNode("toolAgent_0", "toolAgent", "Agents", map[string]any{"tools": []any{ref("calculator_0")}, "model": ref("chatOpenAI_0"),
				"chatPromptTemplate": ref("chatPromptTemplate_0"), "systemMessage": "unused"}),
		}, []any{
			cfEdge("chatPromptTemplate_0", "toolAgent_0", "chatPromptTemplate"), cfEdge("calculator_0", "toolAgent_0", "tools"),
			cfEdge("chatOpenAI_0", "toolAgent_0", "model"),
		}), nil)
		question := `call calculator with {"input":"2+2"}`
		ans := h.predictAgent(id, map[string]any{"question": question})
		require.Equal(t, llmmock.ToolAnswer("4"), ans.Text)
		require.Equal(t, []llmmock.Message{{Role: "system", Content: "You answer as a pirate."}, {Role: "user", Content: "Question: " + question}},
			h.mock.Requests()[0].Messages)
	})

	t.Run("chain tool", func(t *testing.T) {
		h.mock.Reset()
		id := h.createFlow("chain tool", flowJSON(t, []any{
			cfNode("promptTemplate_0", "promptTemplate", "Prompts", map[string]any{"template": "Translate to French: {text}"}),
			model(),
			cfNode("llmChain_0", "llmChain", "Chains", map[string]any{"model": ref("chatOpenAI_0"), "prompt": ref("promptTemplate_0")}),
			cfNode("chainTool_0", "chainTool", "Tools", map[string]any{"name": "translator", "description": "translates into French",
				"returnDirect": false, "baseChain": ref("llmChain_0")}),
			cfNode("toolAgent_0", "toolAgent", "Agents", map[string]any{"tools": []any{ref("chainTool_0")}, "model": ref("chatOpenAI_0")}),
		}, []any{
			cfEdge("promptTemplate_0", "llmChain_0", "prompt"), cfEdge("chatOpenAI_0", "llmChain_0", "model"),
			cfEdge("llmChain_0", "chainTool_0", "baseChain"), cfEdge("chainTool_0", "toolAgent_0", "tools"),
			cfEdge("chatOpenAI_0", "toolAgent_0", "model"),
		}), nil)
		ans := h.predictAgent(id, map[string]any{"question": `call translator with {"input":"hello"}`, "chatId": "chain"})
		translated := llmmock.Answer("Translate to French: hello")
		require.Equal(t, llmmock.ToolAnswer(translated), ans.Text)
		require.Len(t, ans.UsedTools, 1)
		require.Equal(t, translated, ans.UsedTools[0].ToolOutput)
		reqs := h.mock.Requests()
		require.Len(t, reqs, 3, "the agent's turn, the chain, the agent's answer")
		require.Equal(t, []string{"translator"}, reqs[0].Tools)
		require.Equal(t, []llmmock.Message{{Role: "user", Content: "Translate to French: hello"}}, reqs[1].Messages)
		types := h.activityTypes(node.WorkflowID(id, "chain"))
		require.NotContains(t, types, "node.llmChain", "the chain runs in the tool's call, not as a step")
		require.Equal(t, []string{"node.toolAgent", "tool.chainTool", "node.toolAgent", "chat.saveMessages"}, types[len(types)-4:])
	})

	for _, kind := range []string{"conversationalAgent", "reactAgentChat", "openAIToolAgent"} {
		t.Run(kind, func(t *testing.T) {
			h.mock.Reset()
			id := h.createFlow(kind, flowJSON(t, []any{
				cfNode("bufferMemory_0", "bufferMemory", "Memory", map[string]any{"sessionId": "", "memoryKey": "chat_history"}),
				cfNode("calculator_0", "calculator", "Tools", map[string]any{}),
				model(),
				cfNode("agent_0", kind, "Agents", map[string]any{"tools": []any{ref("calculator_0")}, "model": ref("chatOpenAI_0"),
					"memory": ref("bufferMemory_0")}),
			}, []any{
				cfEdge("bufferMemory_0", "agent_0", "memory"), cfEdge("calculator_0", "agent_0", "tools"), cfEdge("chatOpenAI_0", "agent_0", "model"),
			}), nil)
			first := h.predictAgent(id, map[string]any{"question": `call calculator with {"input":"3*3"}`, "chatId": "m"})
			require.Equal(t, llmmock.ToolAnswer("9"), first.Text)
			require.Len(t, first.UsedTools, 1)
			require.Equal(t, "bufferMemory", first.MemoryType, "the memory node's label")
			second := h.predictAgent(id, map[string]any{"question": "and then?", "chatId": "m"})
			require.Equal(t, llmmock.Answer("and then?"), second.Text)
			reqs := h.mock.Requests()
			require.Len(t, reqs, 3)
			system := reqs[0].Messages[0]
			require.Equal(t, "system", system.Role)
			if kind == "openAIToolAgent" {
				require.Equal(t, "You are a helpful AI assistant.", system.Content)
			} else {
				require.Contains(t, system.Content, "Assistant is a large language model trained by OpenAI.")
			}
			require.Equal(t, []llmmock.Message{system,
				{Role: "user", Content: `call calculator with {"input":"3*3"}`},
				{Role: "assistant", Content: first.Text},
				{Role: "user", Content: "and then?"},
			}, reqs[2].Messages, "the second turn sees the first in memory")
		})
	}

	t.Run("custom tool, another chatflow and Serper as tools", func(t *testing.T) {
		var tool struct{ ID string }
		h.doJSON("POST", "/api/v1/tools", map[string]any{
			"name": "add_numbers", "description": "Adds two numbers",
			"schema": `[{"property":"a","type":"number","required":true},{"property":"b","type":"number","required":true}]`,
			"func":   "return `sum=${$a + $b} for ${$flow.chatId}`",
		}, 200, &tool)
		child := h.createFlow("child", h.loadFlow("llm-chain.json", cred), nil)
		serperCred := h.createCredential("serperApi", map[string]any{"serperApiKey": "serper-secret"})
		id := h.createFlow("three tools", flowJSON(t, []any{
			cfNode("customTool_0", "customTool", "Tools", map[string]any{"selectedTool": tool.ID, "returnDirect": false}),
			cfNode("ChatflowTool_0", "ChatflowTool", "Tools", map[string]any{"selectedChatflow": child, "name": "benchmark_bot",
				"description": "asks the benchmark bot"}),
			withCredential(cfNode("serper_0", "serper", "Tools", map[string]any{}), serperCred),
			model(),
			cfNode("toolAgent_0", "toolAgent", "Agents", map[string]any{"model": ref("chatOpenAI_0"),
				"tools": []any{ref("customTool_0"), ref("ChatflowTool_0"), ref("serper_0")}}),
		}, []any{
			cfEdge("customTool_0", "toolAgent_0", "tools"), cfEdge("ChatflowTool_0", "toolAgent_0", "tools"),
			cfEdge("serper_0", "toolAgent_0", "tools"), cfEdge("chatOpenAI_0", "toolAgent_0", "model"),
		}), nil)
		h.mock.Reset()
		question := `call add_numbers with {"a":2,"b":3} then call benchmark_bot with {"input":"hi"} then call search with {"input":"durable"}`
		ans := h.predictAgent(id, map[string]any{"question": question, "chatId": "three"})
		require.Equal(t, llmmock.ToolAnswer("Durable execution"), ans.Text)
		require.Len(t, ans.UsedTools, 3)
		require.Equal(t, "sum=5 for three", ans.UsedTools[0].ToolOutput)
		require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: hi"), ans.UsedTools[1].ToolOutput, "the other chatflow answered")
		require.Equal(t, "Durable execution", ans.UsedTools[2].ToolOutput)
		require.Equal(t, []string{"serper-secret"}, serperKeys)
		require.Equal(t, []string{`{"q":"durable"}`}, serperBodies)
		types := h.activityTypes(node.WorkflowID(id, "three"))
		require.Equal(t, []string{"node.chatOpenAI", "node.toolAgent", "tool.customTool", "node.toolAgent", "tool.ChatflowTool",
			"node.toolAgent", "tool.serper", "node.toolAgent", "chat.saveMessages"}, types, "the child flow runs as a child workflow")
	})

	t.Run("file tools are refused", func(t *testing.T) {
		id := h.createFlow("files", flowJSON(t, []any{
			cfNode("readFile_0", "readFile", "Tools", map[string]any{"basePath": "/etc"}),
			model(),
			cfNode("toolAgent_0", "toolAgent", "Agents", map[string]any{"tools": []any{ref("readFile_0")}, "model": ref("chatOpenAI_0")}),
		}, []any{cfEdge("readFile_0", "toolAgent_0", "tools"), cfEdge("chatOpenAI_0", "toolAgent_0", "model")}), nil)
		h.mock.Reset()
		status, body := h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "read /etc/passwd"})
		require.NotEqual(t, 200, status)
		require.Contains(t, string(body), "Flowgate gives flows no local disk")
		require.Zero(t, h.mock.Calls(), "refused before the model is called")
	})
}

// TestEveryToolCallingModelDrivesTheToolAgent runs the Tool Agent template with its model
// swapped for each chat model kind that calls tools (the kinds table's CallsTools), each over
// its provider's own wire protocol: the agent calls the calculator and answers from its result.
func TestEveryToolCallingModelDrivesTheToolAgent(t *testing.T) {
	h := newHarness(t)
	creds := modelCredentials(h)
	for _, kind := range node.ToolModels() {
		t.Run(kind, func(t *testing.T) {
			cred, ok := creds[kind]
			require.True(t, ok, "the test has no credential for %s", kind)
			h.mock.Reset()
			flowData := editFlow(t, h.loadFlow("marketplace/chatflows/Tool Agent.json", cred), func(nodes []any, _ *[]any) {
				swapModel(t, h, nodeData(nodes, "chatOpenAI_0"), kind)
			})
			id := h.createFlow(kind, flowData, nil)
			ans := h.predictAgent(id, map[string]any{"question": `call calculator with {"input":"6*7"}`, "chatId": "c"})
			require.Equal(t, llmmock.ToolAnswer("42"), ans.Text)
			require.Len(t, ans.UsedTools, 1)
			require.Len(t, h.mock.Requests(), 2)
			require.Equal(t, []string{"node.bufferMemory", "node." + kind, "node.toolAgent", "tool.calculator", "node.toolAgent", "chat.saveMessages"},
				h.activityTypes(node.WorkflowID(id, "c")))
		})
	}
}
