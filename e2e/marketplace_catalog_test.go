package e2e

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestMarketplaceCatalogRuns imports six of Flowise 3.1.2's marketplace chatflow templates,
// changed only in their credentials, their addresses (base URLs and paths pointed at local
// stand-ins) and their file contents, and runs each end to end: the nodes that ran, what the
// model and the tools were sent, and the answer.
func TestMarketplaceCatalogRuns(t *testing.T) {
	h := newHarness(t, allowLoopbackHTTP(t))
	openAI := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-catalog"})
	const tmpl = "marketplace/chatflows/"

	t.Run("Conversational Agent", func(t *testing.T) {
		h.mock.Reset()
		serp := newSerpStandIn(t, "Maxim and Samar")
		serpCred := h.createCredential("serpApi", map[string]any{"serpApiKey": "serp-catalog"})
		id := h.createFlow("conversational agent", pointNode(t, h.loadFlow(tmpl+"Conversational Agent.json", openAI), "serpAPI_0", serpCred), nil)

		question := `call calculator with {"input":"6*7"} then call search with {"input":"temporal founders"}`
		ans := h.predictAgent(id, map[string]any{"question": question, "chatId": "conv"})
		require.Equal(t, llmmock.ToolAnswer("Maxim and Samar"), ans.Text)
		require.Equal(t, "Buffer Memory", ans.MemoryType)
		require.Len(t, ans.UsedTools, 2)
		require.Equal(t, "calculator", ans.UsedTools[0].Tool)
		require.Equal(t, map[string]any{"input": "6*7"}, ans.UsedTools[0].ToolInput)
		require.Equal(t, "42", ans.UsedTools[0].ToolOutput)
		require.Equal(t, "search", ans.UsedTools[1].Tool)
		require.Equal(t, map[string]any{"input": "temporal founders"}, ans.UsedTools[1].ToolInput)
		require.Equal(t, "Maxim and Samar", ans.UsedTools[1].ToolOutput)
		require.Equal(t, []string{"temporal founders"}, serp.queries)
		require.Equal(t, []string{"serp-catalog"}, serp.keys)

		reqs := h.mock.Requests()
		require.Len(t, reqs, 3, "a turn per tool, then the answer")
		for _, r := range reqs {
			require.Equal(t, "/v1/chat/completions", r.Path)
			require.Equal(t, "Bearer sk-catalog", r.Headers.Get("Authorization"))
			require.Equal(t, "gpt-3.5-turbo-16k", r.Model)
		}
		require.ElementsMatch(t, []string{"calculator", "search"}, reqs[0].Tools)
		system := reqs[0].Messages[0]
		require.Equal(t, "system", system.Role)
		require.Contains(t, system.Content, "Assistant is a large language model trained by OpenAI.")
		require.Equal(t, llmmock.Message{Role: "user", Content: question}, reqs[0].Messages[1])
		require.Len(t, reqs[0].Messages, 2)
		last := reqs[1].Messages[len(reqs[1].Messages)-1]
		require.Equal(t, "tool", last.Role)
		require.Equal(t, "42", last.Content, "the calculator's result")
		last = reqs[2].Messages[len(reqs[2].Messages)-1]
		require.Equal(t, "tool", last.Role)
		require.Equal(t, "Maxim and Samar", last.Content, "the search's result")

		require.Equal(t, []string{
			"node.bufferMemory", "node.chatOpenAI",
			"node.conversationalAgent", "tool.calculator", "node.conversationalAgent", "tool.serpAPI", "node.conversationalAgent",
			"chat.saveMessages",
		}, h.activityTypes(node.WorkflowID(id, "conv")))
		require.NotContains(t, h.historyJSON(node.WorkflowID(id, "conv")), "serp-catalog")

		// The second turn sees the first in memory.
		h.mock.Reset()
		second := h.predictAgent(id, map[string]any{"question": "what did you find?", "chatId": "conv"})
		require.Equal(t, llmmock.Answer("what did you find?"), second.Text)
		require.Empty(t, second.UsedTools)
		reqs = h.mock.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, []llmmock.Message{system,
			{Role: "user", Content: question},
			{Role: "assistant", Content: ans.Text},
			{Role: "user", Content: "what did you find?"},
		}, reqs[0].Messages)
	})

	t.Run("ReAct Agent", func(t *testing.T) {
		h.mock.Reset()
		var mu sync.Mutex
		var keys, cxs, queries []string
		search := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			keys, cxs, queries = append(keys, r.URL.Query().Get("key")), append(cxs, r.URL.Query().Get("cx")), append(queries, r.URL.Query().Get("q"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"items":[{"title":"Temporal","link":"https://temporal.io","snippet":"Founded by Maxim and Samar"}]}`))
		}))
		t.Cleanup(search.Close)
		t.Setenv("GOOGLE_CUSTOM_SEARCH_BASE_URL", search.URL)
		searchCred := h.createCredential("googleCustomSearchApi", map[string]any{"googleCustomSearchApiKey": "gcs-catalog", "googleCustomSearchApiId": "engine-7"})
		id := h.createFlow("react agent", pointNode(t, h.loadFlow(tmpl+"ReAct Agent.json", openAI), "googleCustomSearch_0", searchCred), nil)

		question := `call calculator with {"input":"12/4"} then call google-custom-search with {"input":"temporal founders"}`
		ans := h.predictAgent(id, map[string]any{"question": question, "chatId": "react"})
		const found = `[{"title":"Temporal","link":"https://temporal.io","snippet":"Founded by Maxim and Samar"}]`
		require.Equal(t, llmmock.ToolAnswer(found), ans.Text)
		require.Len(t, ans.UsedTools, 2)
		require.Equal(t, "calculator", ans.UsedTools[0].Tool)
		require.Equal(t, map[string]any{"input": "12/4"}, ans.UsedTools[0].ToolInput)
		require.Equal(t, "3", ans.UsedTools[0].ToolOutput)
		require.Equal(t, "google-custom-search", ans.UsedTools[1].Tool)
		require.Equal(t, map[string]any{"input": "temporal founders"}, ans.UsedTools[1].ToolInput)
		require.JSONEq(t, found, ans.UsedTools[1].ToolOutput)
		require.Equal(t, []string{"gcs-catalog"}, keys)
		require.Equal(t, []string{"engine-7"}, cxs)
		require.Equal(t, []string{"temporal founders"}, queries)

		reqs := h.mock.Requests()
		require.Len(t, reqs, 3)
		require.ElementsMatch(t, []string{"calculator", "google-custom-search"}, reqs[0].Tools)
		require.Equal(t, "gpt-3.5-turbo", reqs[0].Model)
		require.Equal(t, "Bearer sk-catalog", reqs[0].Headers.Get("Authorization"))
		require.Len(t, reqs[0].Messages, 2)
		require.Equal(t, "system", reqs[0].Messages[0].Role)
		require.Contains(t, reqs[0].Messages[0].Content, "Assistant is a large language model trained by OpenAI.")
		require.Equal(t, llmmock.Message{Role: "user", Content: question}, reqs[0].Messages[1])
		require.Equal(t, "3", reqs[1].Messages[len(reqs[1].Messages)-1].Content, "the calculator's result")
		require.JSONEq(t, found, reqs[2].Messages[len(reqs[2].Messages)-1].Content, "the search's result")

		require.Equal(t, []string{
			"node.chatOpenAI", "node.bufferMemory",
			"node.reactAgentChat", "tool.calculator", "node.reactAgentChat", "tool.googleCustomSearch", "node.reactAgentChat",
			"chat.saveMessages",
		}, h.activityTypes(node.WorkflowID(id, "react")))
		require.NotContains(t, h.historyJSON(node.WorkflowID(id, "react")), "gcs-catalog")
	})

	t.Run("OpenAPI YAML Agent", func(t *testing.T) {
		h.mock.Reset()
		var mu sync.Mutex
		var paths, apiKeys []string
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			paths, apiKeys = append(paths, r.Method+" "+r.URL.RequestURI()), append(apiKeys, r.Header.Get("X-Api-Key"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"42","name":"Rex","status":"available"}`))
		}))
		t.Cleanup(api.Close)
		t.Setenv("ANTHROPIC_BASE_URL", h.mock.URL)
		anthropic := h.createCredential("anthropicApi", map[string]any{"anthropicApiKey": "sk-ant-catalog"})

		// The template ships without its spec (Flowise exports no file contents): the file the
		// user uploads is a small pet store, its server pointed at the local stand-in.
		spec := "openapi: 3.0.0\ninfo:\n  title: Pet Store\n  version: 1.0.0\nservers:\n  - url: https://petstore.example.com/api\n" +
			"paths:\n  /pets/{petId}:\n    get:\n      operationId: getPetById\n      summary: Find a pet by its id\n" +
			"      parameters:\n        - name: petId\n          in: path\n          required: true\n          schema:\n            type: string\n" +
			"  /pets:\n    post:\n      operationId: addPet\n      summary: Add a pet\n      requestBody:\n        content:\n          application/json:\n" +
			"            schema:\n              type: object\n              properties:\n                name:\n                  type: string\n"
		spec = strings.Replace(spec, "https://petstore.example.com/api", api.URL+"/api", 1)
		flowData := editNodes(t, h.loadFlow(tmpl+"OpenAPI YAML Agent.json", anthropic), map[string]func(data, inputs map[string]any){
			"openAPIToolkit_0": func(_, in map[string]any) { in["yamlFile"] = fileInput("application/x-yaml", "petstore.yaml", spec) },
		})
		id := h.createFlow("openapi agent", flowData, nil)

		question := `call getPetById with {"PathParameters":{"petId":"42"}}`
		ans := h.predictAgent(id, map[string]any{"question": question, "chatId": "openapi"})
		const pet = `{"id":"42","name":"Rex","status":"available"}`
		require.Equal(t, llmmock.ToolAnswer(pet), ans.Text)
		require.Equal(t, []string{"GET /api/pets/42"}, paths, "the operation reached the local API")
		require.Len(t, ans.UsedTools, 1)
		require.Equal(t, "getPetById", ans.UsedTools[0].Tool)
		require.Equal(t, map[string]any{"PathParameters": map[string]any{"petId": "42"}}, ans.UsedTools[0].ToolInput)
		require.Equal(t, pet, ans.UsedTools[0].ToolOutput)

		reqs := h.mock.Requests()
		require.Len(t, reqs, 2)
		for _, r := range reqs {
			require.Equal(t, "/v1/messages", r.Path, "Anthropic's Messages API")
			require.Equal(t, "sk-ant-catalog", r.Headers.Get("X-Api-Key"))
			require.Equal(t, "claude-3-5-haiku-latest", r.Model)
		}
		require.ElementsMatch(t, []string{"getPetById", "addPet"}, reqs[0].Tools)
		require.Equal(t, "system", reqs[0].Messages[0].Role)
		require.True(t, strings.HasPrefix(reqs[0].Messages[0].Content, "You are an agent that can interact with the API"), reqs[0].Messages[0].Content)
		require.Equal(t, llmmock.Message{Role: "user", Content: question}, reqs[0].Messages[len(reqs[0].Messages)-1])
		last := reqs[1].Messages[len(reqs[1].Messages)-1]
		require.Equal(t, "tool", last.Role)
		require.Equal(t, pet, last.Content)

		require.Equal(t, []string{
			"node.bufferMemory", "node.chatAnthropic",
			"node.toolAgent", "tool.openAPIToolkit", "node.toolAgent",
			"chat.saveMessages",
		}, h.activityTypes(node.WorkflowID(id, "openapi")))
		require.NotContains(t, h.historyJSON(node.WorkflowID(id, "openapi")), "sk-ant-catalog")
	})

	t.Run("List Output Parser", func(t *testing.T) {
		h.mock.Reset()
		id := h.createFlow("list parser", h.loadFlow(tmpl+"List Output Parser.json", openAI), nil)
		ans := h.predictRaw(id, map[string]any{"question": "top 10 movies"})
		reqs := h.mock.Requests()
		require.Len(t, reqs, 1, "the answer parsed: autofix never asked again")
		require.Equal(t, "/v1/chat/completions", reqs[0].Path)
		require.Equal(t, "Bearer sk-catalog", reqs[0].Headers.Get("Authorization"))
		require.Equal(t, "gpt-3.5-turbo-16k", reqs[0].Model)
		require.Len(t, reqs[0].Messages, 1)
		prompt := reqs[0].Messages[0].Content
		require.Equal(t, "Answer user's question as best you can: top 10 movies\nYour response should be a list of comma separated values, eg: `foo, bar, baz`", prompt)
		require.Equal(t, splitTrim(llmmock.Answer(prompt), ","), ans["json"], "Flowise answers the list under json")
		require.NotContains(t, ans, "text")
		require.Equal(t, "top 10 movies", ans["question"])
		require.Equal(t, []string{"node.csvOutputParser", "node.promptTemplate", "node.chatOpenAI", "node.llmChain", "chat.saveMessages"},
			h.activityTypes(node.WorkflowID(id, ans["chatId"].(string))))
	})

	t.Run("Local QnA", func(t *testing.T) {
		h.mock.Reset()
		flowData := editNodes(t, h.loadFlow(tmpl+"Local QnA.json", ""), map[string]func(data, inputs map[string]any){
			"localAIEmbeddings_0": func(_, in map[string]any) { in["basePath"] = h.mock.URL + "/v1" },
			"textFile_0":          func(_, in map[string]any) { in["txtFile"] = fileInput("text/plain", "handbook.txt", longHandbook()) },
		})
		var g struct {
			Nodes []struct {
				ID   string `json:"id"`
				Data struct {
					Inputs map[string]any `json:"inputs"`
				} `json:"data"`
			} `json:"nodes"`
		}
		require.NoError(t, json.Unmarshal([]byte(flowData), &g))
		pointed := 0
		for _, n := range g.Nodes {
			if n.ID == "chatOllama_0" {
				require.Equal(t, h.mock.URL, n.Data.Inputs["baseUrl"], "loadFlow points chatOllama at the mock")
				pointed++
			}
		}
		require.Equal(t, 1, pointed)
		id := h.createFlow("local qna", flowData, nil)

		var added struct {
			NumAdded  int             `json:"numAdded"`
			AddedDocs []node.Document `json:"addedDocs"`
		}
		h.doJSON("POST", "/api/v1/vector/upsert/"+id, map[string]any{}, 200, &added)
		require.Equal(t, 3, added.NumAdded)
		require.Len(t, added.AddedDocs, 3)
		require.True(t, strings.HasPrefix(added.AddedDocs[0].PageContent, "Holidays: every employee gets twenty five vacation days per year."))
		require.True(t, strings.HasPrefix(added.AddedDocs[2].PageContent, "Security: lock your laptop screen"))
		reqs := h.mock.Requests()
		require.Len(t, reqs, 1, "one embeddings call for the three chunks")
		require.Equal(t, "/v1/embeddings", reqs[0].Path)
		require.Equal(t, "text-embedding-ada-002", reqs[0].Model)
		require.Empty(t, reqs[0].Headers.Get("Authorization"), "the template's LocalAI embeddings have no credential")
		require.Len(t, reqs[0].Input, 3)
		require.True(t, strings.HasPrefix(reqs[0].Input[1], "Expenses: submit receipts"), reqs[0].Input[1])
		upserts := h.workflowsOfType(node.VectorUpsertWorkflow, 1)
		require.True(t, strings.HasPrefix(upserts[0], "vector:"+id+":"), upserts[0])
		require.Equal(t, []string{"node.recursiveCharacterTextSplitter", "node.textFile", "node.localAIEmbeddings", "node.faiss"},
			h.activityTypes(upserts[0]))

		// Turn one: the question is embedded and searched, then answered by Ollama.
		h.mock.Reset()
		q1 := "how many vacation days does an employee get"
		first := h.predictRaw(id, map[string]any{"question": q1, "chatId": "local"})
		require.Equal(t, llmmock.Answer(q1), first["text"])
		require.NotContains(t, first, "sourceDocuments", "the template does not return its sources")
		reqs = h.mock.Requests()
		require.Len(t, reqs, 2)
		require.Equal(t, "/v1/embeddings", reqs[0].Path)
		require.Equal(t, []string{q1}, reqs[0].Input, "the query is embedded")
		require.Equal(t, "/api/chat", reqs[1].Path, "Ollama's chat API")
		require.Equal(t, "llama2", reqs[1].Model)
		require.Len(t, reqs[1].Messages, 2)
		require.Equal(t, "system", reqs[1].Messages[0].Role)
		require.Contains(t, reqs[1].Messages[0].Content, "<doc id='0'>Holidays: every employee gets twenty five vacation days per year.")
		require.Equal(t, llmmock.Message{Role: "user", Content: q1}, reqs[1].Messages[1])
		require.Equal(t, []string{"node.localAIEmbeddings", "node.chatOllama", "node.faiss", "node.conversationalRetrievalQAChain", "chat.saveMessages"},
			h.activityTypes(node.WorkflowID(id, "local")))

		// Turn two: the history makes the model rephrase the question first.
		h.mock.Reset()
		q2 := "and what about receipts for travel"
		second := h.predictRaw(id, map[string]any{"question": q2, "chatId": "local"})
		require.Equal(t, llmmock.Answer(q2), second["text"])
		reqs = h.mock.Requests()
		require.Len(t, reqs, 3)
		require.Equal(t, "/api/chat", reqs[0].Path)
		rephrase := reqs[0].Messages[0].Content
		require.Contains(t, rephrase, "Given the following conversation and a follow up question, rephrase")
		require.Contains(t, rephrase, "human: "+q1+"\nai: "+llmmock.Answer(q1))
		require.True(t, strings.HasSuffix(rephrase, "Follow Up Input: "+q2+"\nStandalone Question:"), rephrase)
		require.Equal(t, "/v1/embeddings", reqs[1].Path)
		require.Equal(t, []string{llmmock.Answer(rephrase)}, reqs[1].Input, "the standalone question is searched")
		require.Equal(t, "/api/chat", reqs[2].Path)
		answer := reqs[2].Messages
		require.Len(t, answer, 4, "system, the first turn, the question")
		require.Equal(t, llmmock.Message{Role: "user", Content: q1}, answer[1])
		require.Equal(t, llmmock.Message{Role: "assistant", Content: llmmock.Answer(q1)}, answer[2])
		require.Equal(t, llmmock.Message{Role: "user", Content: q2}, answer[3])
	})

	t.Run("SQL DB Chain", func(t *testing.T) {
		h.mock.Reset()
		file := filepath.Join(t.TempDir(), "shop.sqlite")
		db, err := sql.Open("sqlite", file)
		require.NoError(t, err)
		_, err = db.Exec("CREATE TABLE products (name VARCHAR(40) NOT NULL, price INTEGER)")
		require.NoError(t, err)
		_, err = db.Exec("INSERT INTO products (name, price) VALUES ('Lamp', 30), ('Desk', 120)")
		require.NoError(t, err)
		require.NoError(t, db.Close())

		flowData := editNodes(t, h.loadFlow(tmpl+"SQL DB Chain.json", openAI), map[string]func(data, inputs map[string]any){
			"sqlDatabaseChain_0": func(_, in map[string]any) { in["url"] = file },
		})
		id := h.createFlow("sql db chain", flowData, nil)
		question := "what products are there?"
		ans := h.predict(id, map[string]any{"question": question})
		reqs := h.mock.Requests()
		require.Len(t, reqs, 2, "one call writes the query, one answers from its result")
		for _, r := range reqs {
			require.Equal(t, "/v1/chat/completions", r.Path)
			require.Equal(t, "Bearer sk-catalog", r.Headers.Get("Authorization"))
			require.Equal(t, "gpt-3.5-turbo", r.Model)
		}
		first := reqs[0].Messages[0].Content
		require.True(t, strings.HasPrefix(first, "Given an input question, first create a syntactically correct sqlite query to run"), first)
		require.Contains(t, first, "CREATE TABLE products (\nname ")
		require.Contains(t, first, " Lamp 30")
		require.True(t, strings.HasSuffix(first, "Question: "+question+"\nSQLQuery:"), first)
		second := reqs[1].Messages[0].Content
		want := "Question: " + question + "\nSQLQuery:SELECT * FROM products\nSQLResult:" +
			`[{"name":"Lamp","price":30},{"name":"Desk","price":120}]` + "\nAnswer:"
		require.True(t, strings.HasSuffix(second, want), second)
		require.Equal(t, llmmock.Answer(second), ans.Text)
		require.Equal(t, []string{"node.chatOpenAI", "node.sqlDatabaseChain", "chat.saveMessages"}, h.activityTypes(node.WorkflowID(id, ans.ChatID)))
	})
}
