package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/workflows/node"
)

// activityTypes lists the activities a run scheduled, in order.
func (h *harness) activityTypes(workflowID string) []string {
	h.t.Helper()
	var types []string
	for _, a := range ranActivities(h.t, h.app.Temporal(), workflowID) {
		types = append(types, a.name)
	}
	return types
}

// ranActivity is one activity of a run: its type and the attempt that finished it (or the
// last one started).
type ranActivity struct {
	name    string
	attempt int32
}

// ranActivities reads a run's activities from its history, regular ones (scheduled and
// started events) and local ones (the markers their results are recorded in), in order.
func ranActivities(t *testing.T, tc client.Client, workflowID string) []ranActivity {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The API answers once the turn is saved, before the run has recorded that in its
	// history: wait for the run to close (however it ended) so the history is complete.
	_ = tc.GetWorkflow(ctx, workflowID, "").Get(ctx, nil)
	iter := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []ranActivity
	scheduled := map[int64]int{} // scheduled event id → index in out
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[ev.GetEventId()] = len(out)
			out = append(out, ranActivity{name: a.GetActivityType().GetName()})
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			out[scheduled[a.GetScheduledEventId()]].attempt = a.GetAttempt()
		}
		if m := ev.GetMarkerRecordedEventAttributes(); m.GetMarkerName() == "LocalActivity" {
			var data struct {
				ActivityType string
				Attempt      int32
			}
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["data"], &data))
			out = append(out, ranActivity{name: data.ActivityType, attempt: data.Attempt})
		}
	}
	return out
}

func TestLLMChainJSONAndStreaming(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-e2e-secret-123"})
	flowID := h.createFlow("llm chain", h.loadFlow("llm-chain.json", cred), nil)

	ans := h.predict(flowID, map[string]any{"question": "hello there"})
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: hello there"), ans.Text)
	require.Equal(t, "hello there", ans.Question)
	require.NotEmpty(t, ans.ChatID)
	require.NotEmpty(t, ans.ChatMessageID)

	// The provider got the decrypted key and the node's settings.
	reqs := h.mock.Requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "Bearer sk-e2e-secret-123", reqs[0].Headers.Get("Authorization"))
	require.Equal(t, "gpt-4o-mini", reqs[0].Model)

	// One activity per node, named after the node kind, then the message save.
	require.Equal(t, []string{"node.chatOpenAI", "node.promptTemplate", "node.llmChain", "chat.saveMessages"},
		h.activityTypes(node.WorkflowID(flowID, ans.ChatID)))

	// Streaming: Flowise's framing and event order, and the same text.
	resp, events := h.stream(flowID, map[string]any{"question": "hello there"})
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	require.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
	names := eventNames(events)
	require.Equal(t, "start", names[0])
	require.Equal(t, []string{"metadata", "end"}, names[len(names)-2:])
	require.Greater(t, strings.Count(strings.Join(names, ","), "token"), 1, "tokens arrive one by one: %v", names)
	require.Equal(t, ans.Text, tokens(t, events))
	var meta map[string]any
	require.NoError(t, json.Unmarshal(events[len(events)-2].Data, &meta))
	require.Equal(t, "hello there", meta["question"])
	require.NotEmpty(t, meta["chatMessageId"])
	require.Equal(t, `"[DONE]"`, string(events[len(events)-1].Data))

	// Both predictions saved a user and an assistant message.
	var msgs []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
	require.Len(t, msgs, 4)
	require.Equal(t, "userMessage", msgs[0]["role"])
	require.Equal(t, "hello there", msgs[0]["content"])
	require.Equal(t, "apiMessage", msgs[1]["role"])
	require.Equal(t, ans.Text, msgs[1]["content"])
	require.Equal(t, ans.ChatMessageID, msgs[1]["id"])

	// The secret is in neither the run's history nor the logs nor any API answer.
	require.NotContains(t, h.historyJSON(node.WorkflowID(flowID, ans.ChatID)), "sk-e2e-secret-123")
	require.NotContains(t, h.logs.String(), "sk-e2e-secret-123")
	_, credList := h.do("GET", "/api/v1/credentials", nil)
	require.NotContains(t, string(credList), "sk-e2e-secret-123")
	require.NotContains(t, string(credList), "encryptedData")
}

func TestConversationChainMemory(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-conv"})
	flowID := h.createFlow("conversation", h.loadFlow("conversation-chain.json", cred), nil)

	first := h.predict(flowID, map[string]any{"question": "my name is Ada", "chatId": "chat-1"})
	require.Equal(t, "chat-1", first.ChatID)
	require.Equal(t, "chat-1", first.SessionID)
	require.Equal(t, "Buffer Memory", first.MemoryType)

	second := h.predict(flowID, map[string]any{"question": "what is my name?", "chatId": "chat-1"})
	require.Equal(t, llmmock.Answer("what is my name?"), second.Text)

	// The second call carried the first exchange as history, between the system prompt and
	// the new question.
	reqs := h.mock.Requests()
	require.Len(t, reqs, 2)
	msgs := reqs[1].Messages
	require.Len(t, msgs, 4)
	require.Equal(t, "system", msgs[0].Role)
	require.Equal(t, llmmock.Message{Role: "user", Content: "my name is Ada"}, msgs[1])
	require.Equal(t, llmmock.Message{Role: "assistant", Content: first.Text}, msgs[2])
	require.Equal(t, llmmock.Message{Role: "user", Content: "what is my name?"}, msgs[3])

	// Another chat starts with no history.
	h.predict(flowID, map[string]any{"question": "hi", "chatId": "chat-2"})
	require.Len(t, h.mock.Requests()[2].Messages, 2)

	// Filters of the chat message API.
	var msgsOfChat []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=chat-1&order=DESC", nil, 200, &msgsOfChat)
	require.Len(t, msgsOfChat, 4)
	require.Equal(t, second.Text, msgsOfChat[0]["content"])
	var page []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=chat-1&limit=2&page=2", nil, 200, &page)
	require.Len(t, page, 2)
	require.Equal(t, "what is my name?", page[0]["content"])

	var filtered []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?sessionId=chat-2", nil, 200, &filtered)
	require.Len(t, filtered, 2)
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+`?chatType=["EXTERNAL"]`, nil, 200, &filtered)
	require.Len(t, filtered, 6)
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatType=INTERNAL", nil, 200, &filtered)
	require.Empty(t, filtered)
	today := time.Now().UTC().Format(time.DateOnly)
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?endDate="+today, nil, 200, &filtered)
	require.Len(t, filtered, 6, "a bare end date covers that whole day")
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?startDate="+time.Now().Add(time.Hour).Format(time.RFC3339), nil, 200, &filtered)
	require.Empty(t, filtered)
	status, body := h.do("GET", "/api/v1/chatmessage/"+flowID+"?startDate=yesterday", nil)
	requireFlowiseError(t, status, body, 400, "startDate must be an ISO 8601 date")

	var del map[string]any
	h.doJSON("DELETE", "/api/v1/chatmessage/"+flowID+"?chatId=chat-1", nil, 200, &del)
	require.EqualValues(t, 4, del["affected"])
	var rest []map[string]any
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &rest)
	require.Len(t, rest, 2)
	require.Equal(t, "chat-2", rest[0]["chatId"])
}

func TestMarketplaceChatflows(t *testing.T) {
	h := newHarness(t)
	openAI := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-market"})
	azure := h.createCredential("azureOpenAIApi", map[string]any{
		"azureOpenAIApiKey": "az-key", "azureOpenAIApiInstanceName": "inst",
		"azureOpenAIApiDeploymentName": "gpt35", "azureOpenAIApiVersion": "2024-02-01",
	})

	t.Run("LLM Chain on Azure", func(t *testing.T) {
		h.mock.Reset()
		id := h.createFlow("llm chain", h.loadFlow("marketplace/chatflows/LLM Chain.json", azure), nil)
		ans := h.predict(id, map[string]any{"question": "socks"})
		require.Equal(t, llmmock.Answer("What is a good name for a company that makes socks?"), ans.Text)
		reqs := h.mock.Requests()
		require.Len(t, reqs, 1)
		require.Equal(t, "/openai/deployments/gpt35/chat/completions", reqs[0].Path)
		require.Equal(t, "az-key", reqs[0].Headers.Get("api-key"))
		require.Equal(t, []string{"node.promptTemplate", "node.azureChatOpenAI", "node.llmChain", "chat.saveMessages"},
			h.activityTypes(node.WorkflowID(id, ans.ChatID)), "the sticky note is not a step")
	})

	t.Run("Conversation Chain", func(t *testing.T) {
		h.mock.Reset()
		id := h.createFlow("conversation", h.loadFlow("marketplace/chatflows/Conversation Chain.json", openAI), nil)
		first := h.predict(id, map[string]any{"question": "one", "chatId": "c"})
		second := h.predict(id, map[string]any{"question": "two", "chatId": "c"})
		require.Equal(t, llmmock.Answer("two"), second.Text)
		require.Equal(t, "Buffer Memory", first.MemoryType)
		require.Len(t, h.mock.Requests()[1].Messages, 4)
	})

	t.Run("Prompt Chaining", func(t *testing.T) {
		h.mock.Reset()
		id := h.createFlow("chaining", h.loadFlow("marketplace/chatflows/Prompt Chaining.json", openAI), nil)
		ans := h.predict(id, map[string]any{"question": "write a poem"})
		reqs := h.mock.Requests()
		require.Len(t, reqs, 2, "the first chain's answer feeds the second prompt")
		firstPrompt := "You are an AI who performs one task based on the following objective: write a poem.\nRespond with how you would complete this task:"
		require.Equal(t, firstPrompt, reqs[0].Messages[0].Content)
		require.Contains(t, reqs[1].Messages[0].Content, "The last completed task has the result: "+llmmock.Answer(firstPrompt)+".")
		require.Equal(t, llmmock.Answer(reqs[1].Messages[0].Content), ans.Text)

		// Streaming sends only the ending chain's tokens.
		_, events := h.stream(id, map[string]any{"question": "write a poem"})
		require.Equal(t, ans.Text, tokens(t, events))
	})
}

// historyJSON is a run's whole history as JSON, for searching it.
func (h *harness) historyJSON(workflowID string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := h.app.Temporal().GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var b strings.Builder
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(h.t, err)
		fmt.Fprintln(&b, ev.String())
	}
	require.NotZero(h.t, b.Len())
	return b.String()
}
