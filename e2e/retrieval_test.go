package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/internal/testkit/pgtest"
	"github.com/flowgate/flowgate/workflows/node"
)

// handbook is the text file the retrieval flows load: three paragraphs, one chunk each with a
// chunk size of 80.
const handbook = "Holidays: every employee gets twenty five vacation days per year.\n\n" +
	"Expenses: submit receipts for travel within thirty days.\n\n" +
	"Security: lock your laptop screen whenever you leave your desk."

// longHandbook is the handbook with each paragraph long enough (over 500 characters) for the
// template's splitter (chunk size 1000, overlap 200) to make it a chunk of its own.
func longHandbook() string {
	paras := strings.Split(handbook, "\n\n")
	fill := []string{" Plan your vacation early.", " Keep every receipt.", " Guard your laptop."}
	for i := range paras {
		paras[i] += strings.Repeat(fill[i], 30)
	}
	return strings.Join(paras, "\n\n")
}

// fileInput is a file as a Flowise loader's file input holds it.
func fileInput(mime, name, text string) string {
	return dataURI(mime, []byte(text)) + ",filename:" + name
}

// editNodes applies edit to each node of a flowData by id.
func editNodes(t *testing.T, flowData string, edit map[string]func(data, inputs map[string]any)) string {
	t.Helper()
	var g map[string]any
	require.NoError(t, json.Unmarshal([]byte(flowData), &g))
	for _, n := range g["nodes"].([]any) {
		nm := n.(map[string]any)
		if fn, ok := edit[nm["id"].(string)]; ok {
			data := nm["data"].(map[string]any)
			fn(data, data["inputs"].(map[string]any))
		}
	}
	b, err := json.Marshal(g)
	require.NoError(t, err)
	return string(b)
}

// TestMarketplaceConversationalRetrievalQAChain imports Flowise's "Conversational Retrieval QA
// Chain" template unchanged but for credentials, addresses and the text file, upserts it
// through Flowise's vector API (a workflow on the worker tier), then holds a two-turn
// conversation: the first answered from the retrieved chunks, the second rephrased with the
// history first. Source documents come back in JSON and as an SSE event.
func TestMarketplaceConversationalRetrievalQAChain(t *testing.T) {
	h := newHarness(t)
	openAI := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-embed-secret"})
	mistral := h.createCredential("mistralAIApi", map[string]any{"mistralAIAPIKey": "ms-chat-secret"})
	flowData := editNodes(t, h.loadFlow("marketplace/chatflows/Conversational Retrieval QA Chain.json", mistral), map[string]func(data, inputs map[string]any){
		"openAIEmbeddings_0": func(data, in map[string]any) { data["credential"], in["basepath"] = openAI, h.mock.URL+"/v1" },
		"textFile_0":         func(_, in map[string]any) { in["txtFile"] = fileInput("text/plain", "handbook.txt", longHandbook()) },
	})
	// returnSourceDocuments is turned on per request, through the overrides the flow allows.
	apiConfig := `{"overrideConfig":{"status":true,"nodes":{"Conversational Retrieval QA Chain":[{"name":"returnSourceDocuments","enabled":true}]}}}`
	id := h.createFlow("retrieval", flowData, map[string]any{"apiConfig": apiConfig})

	// Upsert: the nodes wired into Faiss run as one workflow on the worker tier.
	var added struct {
		NumAdded  int             `json:"numAdded"`
		AddedDocs []node.Document `json:"addedDocs"`
	}
	h.doJSON("POST", "/api/v1/vector/upsert/"+id, map[string]any{}, 200, &added)
	require.Equal(t, 3, added.NumAdded)
	require.Len(t, added.AddedDocs, 3)
	require.True(t, strings.HasPrefix(added.AddedDocs[0].PageContent, "Holidays: every employee gets twenty five vacation days per year."))
	require.Equal(t, "blob", added.AddedDocs[0].Metadata["source"])
	reqs := h.mock.Requests()
	require.Len(t, reqs, 1, "one embeddings call for the three chunks")
	require.Equal(t, "/v1/embeddings", reqs[0].Path)
	require.Equal(t, "Bearer sk-embed-secret", reqs[0].Headers.Get("Authorization"))
	require.Equal(t, "text-embedding-ada-002", reqs[0].Model)
	require.Len(t, reqs[0].Input, 3)
	upserts := h.workflowsOfType(node.VectorUpsertWorkflow, 1)
	require.True(t, strings.HasPrefix(upserts[0], "vector:"+id+":"), upserts[0])
	require.Equal(t, []string{"node.openAIEmbeddings", "node.recursiveCharacterTextSplitter", "node.textFile", "node.documentStore", "node.faiss"},
		h.activityTypes(upserts[0]))
	require.NotContains(t, h.historyJSON(upserts[0]), "sk-embed-secret")

	// Turn one: no history, so the question itself is searched.
	h.mock.Reset()
	q1 := "how many vacation days does an employee get"
	var first struct {
		predictionAnswer
		SourceDocuments []node.Document `json:"sourceDocuments"`
	}
	h.doJSON("POST", "/api/v1/prediction/"+id, map[string]any{"question": q1, "chatId": "c1",
		"overrideConfig": map[string]any{"returnSourceDocuments": true}}, 200, &first)
	require.Equal(t, llmmock.Answer(q1), first.Text)
	reqs = h.mock.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, []string{q1}, reqs[0].Input, "the query is embedded")
	require.Equal(t, "/v1/chat/completions", reqs[1].Path)
	require.Equal(t, "Bearer ms-chat-secret", reqs[1].Headers.Get("Authorization"))
	require.Equal(t, "mistral-tiny", reqs[1].Model)
	require.Len(t, reqs[1].Messages, 2)
	require.Equal(t, "system", reqs[1].Messages[0].Role)
	require.Contains(t, reqs[1].Messages[0].Content, "You are a helpful assistant. Using the provided context")
	require.Contains(t, reqs[1].Messages[0].Content, "<doc id='0'>Holidays: every employee gets twenty five vacation days per year.")
	require.Equal(t, q1, reqs[1].Messages[1].Content)
	require.Len(t, first.SourceDocuments, 3)
	require.Contains(t, first.SourceDocuments[0].PageContent, "vacation days")
	require.Equal(t, []string{"node.openAIEmbeddings", "node.faiss", "node.chatMistralAI", "node.conversationalRetrievalQAChain", "chat.saveMessages"},
		h.activityTypes(node.WorkflowID(id, "c1")), "the loaders feed Faiss, whose index the upsert wrote: a prediction skips them")
	history := h.historyJSON(node.WorkflowID(id, "c1"))
	require.NotContains(t, history, "sk-embed-secret")
	require.NotContains(t, history, "ms-chat-secret")

	// Turn two, streamed: the history makes the model rephrase the question first.
	h.mock.Reset()
	q2 := "and what about receipts for travel"
	resp, events := h.stream(id, map[string]any{"question": q2, "chatId": "c1", "overrideConfig": map[string]any{"returnSourceDocuments": true}})
	require.Equal(t, 200, resp.StatusCode)
	reqs = h.mock.Requests()
	require.Len(t, reqs, 3)
	rephrase := reqs[0].Messages[0].Content
	require.Contains(t, rephrase, "Given the following conversation and a follow up question, rephrase")
	require.Contains(t, rephrase, "human: "+q1+"\nai: "+llmmock.Answer(q1))
	require.Contains(t, rephrase, "Follow Up Input: "+q2)
	require.Equal(t, []string{llmmock.Answer(rephrase)}, reqs[1].Input, "the standalone question is searched")
	answer := reqs[2].Messages
	require.Len(t, answer, 4, "system, the first turn, the question")
	require.Equal(t, q1, answer[1].Content)
	require.Equal(t, llmmock.Answer(q1), answer[2].Content)
	require.Equal(t, q2, answer[3].Content)
	require.Equal(t, llmmock.Answer(q2), tokens(t, events))
	names := eventNames(events)
	require.Equal(t, []string{"sourceDocuments", "metadata", "end"}, names[len(names)-3:])
	var streamed []node.Document
	require.NoError(t, json.Unmarshal(events[len(events)-3].Data, &streamed))
	require.Len(t, streamed, 3)
}

// flowOf makes flowData from nodes, with an edge for every input wired to another node.
func flowOf(t *testing.T, nodes ...map[string]any) string {
	t.Helper()
	var edges []map[string]any
	for _, n := range nodes {
		for input, v := range n["data"].(map[string]any)["inputs"].(map[string]any) {
			vals := []any{v}
			if list, ok := v.([]any); ok {
				vals = list
			}
			for _, x := range vals {
				s, _ := x.(string)
				if src, ok := strings.CutPrefix(s, "{{"); ok && strings.HasSuffix(src, ".data.instance}}") {
					src = strings.TrimSuffix(src, ".data.instance}}")
					edges = append(edges, map[string]any{"id": src + "-" + n["id"].(string) + "-" + input, "source": src, "target": n["id"],
						"sourceHandle": src, "targetHandle": n["id"].(string) + "-input-" + input + "-" + strings.ToUpper(input[:1]) + input[1:]})
				}
			}
		}
	}
	b, err := json.Marshal(map[string]any{"nodes": nodes, "edges": edges})
	require.NoError(t, err)
	return string(b)
}

// TestMemoryVectorStoreConversation: text file → splitter → OpenAI embeddings → in-memory
// store → conversational retrieval QA with buffer memory, two turns, JSON and SSE. The
// in-memory store is built at prediction, kept in storage, and embedded once for both turns.
func TestMemoryVectorStoreConversation(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-mem"})
	flowData := flowOf(t,
		flowNode("splitter_0", "recursiveCharacterTextSplitter", "Text Splitters", map[string]any{"chunkSize": 80, "chunkOverlap": "0"}, nil),
		flowNode("textFile_0", "textFile", "Document Loaders", map[string]any{"txtFile": fileInput("text/plain", "handbook.txt", handbook),
			"textSplitter": ref("splitter_0"), "metadata": `{"book":"handbook"}`}, map[string]any{"output": "document"}),
		flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
		flowNode("memory_0", "memoryVectorStore", "Vector Stores", map[string]any{"document": []any{ref("textFile_0")},
			"embeddings": ref("embeddings_0"), "topK": "2"}, map[string]any{"output": "retriever"}),
		flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil),
		flowNode("buffer_0", "bufferMemory", "Memory", map[string]any{}, nil),
		flowNode("chain_0", "conversationalRetrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"),
			"vectorStoreRetriever": ref("memory_0"), "memory": ref("buffer_0"), "returnSourceDocuments": true}, nil),
	)
	id := h.createFlow("memory retrieval", flowData, nil)

	var first struct {
		predictionAnswer
		SourceDocuments []node.Document `json:"sourceDocuments"`
	}
	q1 := "when must travel receipts be submitted"
	h.doJSON("POST", "/api/v1/prediction/"+id, map[string]any{"question": q1, "chatId": "m1"}, 200, &first)
	require.Equal(t, llmmock.Answer(q1), first.Text)
	require.Equal(t, "bufferMemory", first.MemoryType)
	require.Len(t, first.SourceDocuments, 2, "topK")
	require.Contains(t, first.SourceDocuments[0].PageContent, "receipts")
	require.Equal(t, "handbook", first.SourceDocuments[0].Metadata["book"])
	reqs := h.mock.Requests()
	require.Len(t, reqs, 3, "the documents, the query, the answer")
	require.Len(t, reqs[0].Input, 3)
	require.Equal(t, []string{"node.recursiveCharacterTextSplitter", "node.textFile", "node.openAIEmbeddings", "node.memoryVectorStore",
		"node.chatOpenAI", "node.bufferMemory", "node.conversationalRetrievalQAChain", "chat.saveMessages"}, h.activityTypes(node.WorkflowID(id, "m1")))

	h.mock.Reset()
	q2 := "and how many vacation days"
	_, events := h.stream(id, map[string]any{"question": q2, "chatId": "m1"})
	reqs = h.mock.Requests()
	require.Len(t, reqs, 3, "the same documents are not embedded again: rephrase, query, answer")
	require.Contains(t, reqs[0].Messages[0].Content, "human: "+q1)
	require.Len(t, reqs[2].Messages, 4)
	require.Equal(t, llmmock.Answer(q2), tokens(t, events))
	var streamed []node.Document
	for _, ev := range events {
		if ev.Event == "sourceDocuments" {
			require.NoError(t, json.Unmarshal(ev.Data, &streamed))
		}
	}
	require.Len(t, streamed, 2)

	// The turns are saved with their documents, as Flowise's chat messages keep them.
	var msgs []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+id, nil, 200, &msgs)
	require.Len(t, msgs, 4)
	require.Contains(t, fmt.Sprint(msgs[1]["sourceDocuments"]), "receipts")
}

// TestRetrievalQAChainWithFilteredRetriever: a vector store retriever over an in-memory store
// whose metadata filter keeps one team's documents, and the retrieval QA chain answering from
// them; also a multipart vector upsert of a file into Faiss.
func TestRetrievalQAChainWithFilteredRetriever(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-qa"})
	flowData := flowOf(t,
		flowNode("red_0", "plainText", "Document Loaders", map[string]any{"text": "The red team meets on Mondays.", "metadata": `{"team":"red"}`}, map[string]any{"output": "document"}),
		flowNode("blue_0", "plainText", "Document Loaders", map[string]any{"text": "The blue team meets on Mondays too.", "metadata": `{"team":"blue"}`}, map[string]any{"output": "document"}),
		flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
		flowNode("memory_0", "memoryVectorStore", "Vector Stores", map[string]any{"document": []any{ref("red_0"), ref("blue_0")},
			"embeddings": ref("embeddings_0"), "metadataFilter": `{"team":"red"}`}, map[string]any{"output": "vectorStore"}),
		flowNode("retriever_0", "vectorStoreRetriever", "Retrievers", map[string]any{"vectorStore": ref("memory_0"), "name": "teams", "description": "team meetings"}, nil),
		flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil),
		flowNode("chain_0", "retrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"), "vectorStoreRetriever": ref("retriever_0")}, nil),
	)
	id := h.createFlow("qa", flowData, nil)
	ans := h.predict(id, map[string]any{"question": "when does the team meet on Mondays"})
	require.Equal(t, llmmock.Answer("when does the team meet on Mondays"), ans.Text)
	reqs := h.mock.Requests()
	system := reqs[len(reqs)-1].Messages[0].Content
	require.True(t, strings.HasPrefix(system, "Use the following pieces of context to answer the users question."), system)
	require.Contains(t, system, "The red team meets on Mondays.")
	require.NotContains(t, system, "blue", "the filter keeps the red team's document only")

	// A multipart upsert: the file goes to storage and the loader reads it there.
	faissFlow := h.faissQAFlow(cred, nil)
	fid := h.createFlow("faiss", faissFlow, nil)
	status, body := h.upsertFile(fid, "parking.txt", "Parking: the garage opens at seven in the morning.", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	require.Contains(t, string(body), `"numAdded":1`)
	h.mock.Reset()
	h.predict(fid, map[string]any{"question": "when does the garage open"})
	require.Contains(t, h.mock.Requests()[1].Messages[0].Content, "the garage opens at seven")

	// Upserts count against the chatflow's rate limit, as in Flowise: each one pays for
	// embeddings.
	limited := h.createFlow("limited", faissFlow, map[string]any{"apiConfig": limitConfig(true, 1, 60, "Too many upserts")})
	status, body = h.do("POST", "/api/v1/vector/upsert/"+limited, map[string]any{})
	require.NotEqual(t, http.StatusTooManyRequests, status, string(body))
	status, body = h.do("POST", "/api/v1/vector/upsert/"+limited, map[string]any{})
	require.Equal(t, http.StatusTooManyRequests, status, string(body))
	require.Contains(t, string(body), "Too many upserts")

	// A flow without vector store cannot be upserted, in Flowise's words.
	status, body = h.do("POST", "/api/v1/vector/upsert/"+id+"x", map[string]any{})
	require.Equal(t, http.StatusNotFound, status, string(body))
}

// TestPostgresVectorStoreWithoutPgvector: the machine's PostgreSQL has no pgvector, and the
// postgres vector store says so, at upsert and at prediction.
func TestPostgresVectorStoreWithoutPgvector(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-pg"})
	pg := h.createCredential("PostgresApi", map[string]any{"user": pgtest.User, "password": ""})
	db := pgtest.NewDatabase(t)
	flowData := flowOf(t,
		flowNode("text_0", "plainText", "Document Loaders", map[string]any{"text": "hello"}, map[string]any{"output": "document"}),
		flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
		flowNode("postgres_0", "postgres", "Vector Stores", map[string]any{"credential": pg, "host": pgtest.Host, "port": float64(pgtest.Port),
			"database": db, "document": []any{ref("text_0")}, "embeddings": ref("embeddings_0")}, map[string]any{"output": "retriever"}),
		flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil),
		flowNode("chain_0", "retrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"), "vectorStoreRetriever": ref("postgres_0")}, nil),
	)
	id := h.createFlow("pg", flowData, nil)
	status, body := h.do("POST", "/api/v1/vector/upsert/"+id, map[string]any{})
	requireFlowiseError(t, status, body, 500, "does not have the pgvector extension installed")
	status, body = h.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
	requireFlowiseError(t, status, body, 500, "postgres_0 (postgres): postgres vector store: the database "+db)
	require.Empty(t, h.mock.Requests(), "nothing is embedded for a store that cannot hold it")
}

// TestQueueModeVectorUpsertRunsOnWorkers: in queue mode the API tier has no worker, so a
// vector upsert completes only as a workflow on the worker tier; the file the API took goes
// through the storage both share, and so does the Faiss index a later prediction searches.
func TestQueueModeVectorUpsertRunsOnWorkers(t *testing.T) {
	cfg := postgresConfig(t)
	startTier(t, cfg, app.Options{Worker: true})
	h := &harness{t: t, base: "http://" + startTier(t, cfg, app.Options{API: true}).Addr(), mock: llmmock.NewTestServer(t, llmmock.Options{}), key: testKey}
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-queue-vec"})
	id := h.createFlow("queue faiss", h.faissQAFlow(cred, map[string]any{"basePath": "/var/flowise/faiss"}), nil)
	status, body := h.upsertFile(id, "parking.txt", "Parking: the garage opens at seven in the morning.", map[string]string{"chatId": "upsert-1"})
	require.Equal(t, http.StatusOK, status, string(body))
	require.Contains(t, string(body), `"numAdded":1`)

	h.mock.Reset()
	ans := h.predict(id, map[string]any{"question": "when does the garage open"})
	require.Equal(t, llmmock.Answer("when does the garage open"), ans.Text)
	require.Contains(t, h.mock.Requests()[1].Messages[0].Content, "the garage opens at seven")
}

// TestCheerioWebScraperThroughTheNetworkGuard: the scraper loads a page the policy allows and
// keeps the text of the elements its selector picks; with the default policy a loopback page
// is refused, as for every node that calls out.
func TestCheerioWebScraperThroughTheNetworkGuard(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(`<html><body><nav>menu noise</nav><div class="faq main">Parking: the garage opens at seven.</div>` +
			`<script>var x = "script noise"</script><div>footer noise</div></body></html>`))
	}))
	t.Cleanup(site.Close)
	flow := func(h *harness, cred string) string {
		return flowOf(t,
			flowNode("cheerio_0", "cheerioWebScraper", "Document Loaders", map[string]any{"url": site.URL + "/faq", "selector": "div.faq"},
				map[string]any{"output": "document"}),
			flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
			flowNode("memory_0", "memoryVectorStore", "Vector Stores", map[string]any{"document": []any{ref("cheerio_0")}, "embeddings": ref("embeddings_0")},
				map[string]any{"output": "retriever"}),
			flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil),
			flowNode("chain_0", "retrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"), "vectorStoreRetriever": ref("memory_0")}, nil),
		)
	}
	h := newHarness(t, allowLoopbackHTTP(t))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-web"})
	id := h.createFlow("web", flow(h, cred), nil)
	h.predict(id, map[string]any{"question": "when does the garage open"})
	reqs := h.mock.Requests()
	require.Equal(t, []string{"Parking: the garage opens at seven."}, reqs[0].Input, "only the selected element's text")
	require.Contains(t, reqs[len(reqs)-1].Messages[0].Content, "Parking: the garage opens at seven.")

	guarded := newHarness(t)
	cred = guarded.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-web"})
	id = guarded.createFlow("web", flow(guarded, cred), nil)
	status, body := guarded.do("POST", "/api/v1/prediction/"+id, map[string]any{"question": "hi"})
	requireFlowiseError(t, status, body, 500, "cheerio_0 (cheerioWebScraper): request to 127.0.0.1 refused")
}

// TestLoaderReadsTheTurnsUploads: a text file loader with no file of its own reads the files
// sent with the prediction for its vector store, and the in-memory store answers from them.
func TestLoaderReadsTheTurnsUploads(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-up"})
	// The vector store takes uploads (fileUpload) of the types its loader's file input names.
	loaderNode := flowNode("textFile_0", "textFile", "Document Loaders", map[string]any{"txtFile": ""}, map[string]any{"output": "document"})
	loaderNode["data"].(map[string]any)["inputParams"] = []any{map[string]any{"name": "txtFile", "type": "file", "fileType": ".txt"}}
	id := h.createFlow("uploads", flowOf(t,
		loaderNode,
		flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
		flowNode("memory_0", "memoryVectorStore", "Vector Stores", map[string]any{"document": []any{ref("textFile_0")}, "embeddings": ref("embeddings_0"),
			"fileUpload": true}, map[string]any{"output": "retriever"}),
		flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil),
		flowNode("chain_0", "retrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"), "vectorStoreRetriever": ref("memory_0")}, nil),
	), nil)
	// Flowise's chat sends a vector store's files as "file:rag" uploads.
	h.predict(id, map[string]any{"question": "what is on the menu", "uploads": []any{map[string]any{
		"type": "file:rag", "name": "menu.txt", "mime": "text/plain", "data": dataURI("text/plain", []byte("The menu today is lentil soup.")),
	}}})
	reqs := h.mock.Requests()
	require.Equal(t, []string{"The menu today is lentil soup."}, reqs[0].Input, "the upload is the store's document")
	require.Contains(t, reqs[len(reqs)-1].Messages[0].Content, "lentil soup")
}

// TestDocumentStoreAsVectorStore: a Flowgate document store, upserted through its own API, is
// the vector store of a chatflow (documentStoreVS) and the documents of another's loader
// (documentStore).
func TestDocumentStoreAsVectorStore(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-ds"})
	var created map[string]any
	h.doJSON("POST", "/api/v1/document-store/store", map[string]any{"name": "Handbook"}, 200, &created)
	storeID := created["id"].(string)
	h.doJSON("POST", "/api/v1/document-store/upsert/"+storeID, map[string]any{
		"loader":    map[string]any{"name": "plainText", "config": map[string]any{"text": handbook}},
		"splitter":  map[string]any{"name": "characterTextSplitter", "config": map[string]any{"chunkSize": 80, "chunkOverlap": "0"}},
		"embedding": map[string]any{"name": "openAIEmbeddings", "config": map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}},
	}, 200, nil)

	chat := flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil)
	id := h.createFlow("docstore vs", flowOf(t,
		flowNode("store_0", "documentStoreVS", "Vector Stores", map[string]any{"selectedStore": storeID}, map[string]any{"output": "retriever"}),
		chat,
		flowNode("chain_0", "retrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"), "vectorStoreRetriever": ref("store_0")}, nil),
	), nil)
	h.mock.Reset()
	h.predict(id, map[string]any{"question": "how many vacation days"})
	reqs := h.mock.Requests()
	system := reqs[len(reqs)-1].Messages[0].Content
	require.Contains(t, system, "Holidays: every employee gets twenty five vacation days per year.")
	require.Contains(t, system, "Security:", "the store's topK (4) keeps all three chunks")

	// The same store's chunks as a loader's documents, indexed by an in-memory store.
	id = h.createFlow("docstore loader", flowOf(t,
		flowNode("loader_0", "documentStore", "Document Loaders", map[string]any{"selectedStore": storeID}, map[string]any{"output": "document"}),
		flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
		flowNode("memory_0", "memoryVectorStore", "Vector Stores", map[string]any{"document": []any{ref("loader_0")}, "embeddings": ref("embeddings_0"), "topK": 1},
			map[string]any{"output": "retriever"}),
		chat,
		flowNode("chain_0", "retrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"), "vectorStoreRetriever": ref("memory_0")}, nil),
	), nil)
	h.mock.Reset()
	h.predict(id, map[string]any{"question": "lock the laptop screen"})
	reqs = h.mock.Requests()
	require.Len(t, reqs[0].Input, 3, "the store's three chunks")
	system = reqs[len(reqs)-1].Messages[0].Content
	require.Contains(t, system, "Security: lock your laptop screen")
	require.NotContains(t, system, "Holidays")
}

// TestToolAgentSearchesARetrieverTool: a tool agent offered a retriever tool over an in-memory
// store searches the retriever wired into the tool, narrowed by the tool's own filter, and
// reports the documents it found.
func TestToolAgentSearchesARetrieverTool(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-rt"})
	flowData := flowOf(t,
		flowNode("red_0", "plainText", "Document Loaders", map[string]any{"text": "The red team meets on Mondays.", "metadata": `{"team":"red"}`}, map[string]any{"output": "document"}),
		flowNode("blue_0", "plainText", "Document Loaders", map[string]any{"text": "The blue team meets on Mondays too.", "metadata": `{"team":"blue"}`}, map[string]any{"output": "document"}),
		flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
		flowNode("memory_0", "memoryVectorStore", "Vector Stores", map[string]any{"document": []any{ref("red_0"), ref("blue_0")},
			"embeddings": ref("embeddings_0")}, map[string]any{"output": "retriever"}),
		flowNode("rt_0", "retrieverTool", "Tools", map[string]any{"retriever": ref("memory_0"), "name": "team_meetings",
			"description": "when teams meet", "returnSourceDocuments": true, "retrieverToolMetadataFilter": `{"team":"blue"}`}, nil),
		flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil),
		flowNode("agent_0", "toolAgent", "Agents", map[string]any{"model": ref("chat_0"), "tools": []any{ref("rt_0")}}, nil),
	)
	id := h.createFlow("retriever tool", flowData, nil)
	var ans struct {
		Text            string           `json:"text"`
		ChatID          string           `json:"chatId"`
		SourceDocuments []map[string]any `json:"sourceDocuments"`
		UsedTools       []map[string]any `json:"usedTools"`
	}
	h.doJSON("POST", "/api/v1/prediction/"+id, map[string]any{"question": `call team_meetings with {"input":"when do teams meet"}`}, 200, &ans)
	require.Equal(t, llmmock.ToolAnswer("The blue team meets on Mondays too."), ans.Text)
	require.Len(t, ans.UsedTools, 1)
	require.Equal(t, "team_meetings", ans.UsedTools[0]["tool"])
	require.Len(t, ans.SourceDocuments, 1)
	require.Equal(t, "The blue team meets on Mondays too.", ans.SourceDocuments[0]["pageContent"])
	require.Contains(t, h.activityTypes(node.WorkflowID(id, ans.ChatID)), "tool.retrieverTool")
}

// faissQAFlow is a text file loader feeding Faiss through OpenAI embeddings, and a retrieval
// QA chain over it, every provider at the mock; faiss takes extra inputs too.
func (h *harness) faissQAFlow(cred string, faiss map[string]any) string {
	h.t.Helper()
	faissInputs := map[string]any{"document": []any{ref("textFile_0")}, "embeddings": ref("embeddings_0")}
	maps.Copy(faissInputs, faiss)
	return flowOf(h.t,
		flowNode("textFile_0", "textFile", "Document Loaders", map[string]any{"txtFile": ""}, map[string]any{"output": "document"}),
		flowNode("embeddings_0", "openAIEmbeddings", "Embeddings", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}, nil),
		flowNode("faiss_0", "faiss", "Vector Stores", faissInputs, map[string]any{"output": "retriever"}),
		flowNode("chat_0", "chatOpenAI", "Chat Models", map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1", "modelName": "gpt-4o-mini"}, nil),
		flowNode("chain_0", "retrievalQAChain", "Chains", map[string]any{"model": ref("chat_0"), "vectorStoreRetriever": ref("faiss_0")}, nil),
	)
}

// upsertFile posts one file (and form fields) to a flow's vector upsert, as a multipart form.
func (h *harness) upsertFile(flowID, name, content string, fields map[string]string) (int, []byte) {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("files", name)
	require.NoError(h.t, err)
	_, _ = fw.Write([]byte(content))
	for k, v := range fields {
		require.NoError(h.t, mw.WriteField(k, v))
	}
	require.NoError(h.t, mw.Close())
	req, err := http.NewRequest("POST", h.base+"/api/v1/vector/upsert/"+flowID, &buf)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return h.send(req)
}
