package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/models"
)

// TestClusterResendAfterAPICrash kills -9 an API replica with predictions in flight and resends
// the same requests to the other replica, as a client or load balancer does: every resend gets
// the answer of the run the first request started (the model is not called again), every turn
// is stored exactly once, and the next turn's memory holds each turn once. Resends arrive while
// the runs are still working and again after they ended.
func TestClusterResendAfterAPICrash(t *testing.T) {
	c := newCluster(t)
	mock := llmmock.NewTestServer(t, llmmock.Options{})
	api1, process1 := c.apiProcess()
	api2 := c.api()
	api1.mock, api2.mock = mock, mock
	c.worker()

	cred := api2.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-resend"})
	flowID := api2.createFlow("resend", api2.loadFlow("conversation-chain.json", cred), nil)

	const chats = 4
	request := func(i int) map[string]any {
		body := map[string]any{"question": fmt.Sprintf("question %d", i), "chatId": fmt.Sprintf("resend-%d", i)}
		if i == chats-1 {
			body["streaming"] = true // one client streams
		}
		return body
	}
	mock.SetDelay(3 * time.Second)
	var wg sync.WaitGroup
	for i := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			raw, _ := json.Marshal(request(i))
			// The replica dies under these: their answers never come.
			resp, err := httpClient.Post(api1.base+"/api/v1/prediction/"+flowID, "application/json", strings.NewReader(string(raw)))
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	require.Eventually(t, func() bool { return mock.Calls() == chats }, 60*time.Second, 20*time.Millisecond, "every run is calling the model")
	require.NoError(t, process1.cmd.Process.Kill())
	wg.Wait()

	answer := func(i int) string {
		if request(i)["streaming"] == true {
			resp, events := api2.stream(flowID, request(i))
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "end", events[len(events)-1].Event, "the resend's stream ends as Flowise's do")
			return tokens(t, events)
		}
		return api2.predict(flowID, request(i)).Text
	}
	// Resent while the runs still work, then again once they have ended.
	for round := range 2 {
		for i := range chats {
			want := llmmock.Answer(fmt.Sprintf("question %d", i))
			require.Equal(t, want, answer(i), "round %d, chat %d: the first run's answer", round, i)
		}
	}
	require.Equal(t, chats, mock.Calls(), "no resend ran the turn again")

	mock.SetDelay(0)
	for i := range chats {
		var msgs []models.ChatMessage
		api2.doJSON("GET", fmt.Sprintf("/api/v1/chatmessage/%s?chatId=resend-%d", flowID, i), nil, 200, &msgs)
		require.Len(t, msgs, 2, "chat %d: the turn is stored once", i)
	}

	// The next turn remembers each earlier turn once.
	mock.Reset()
	api2.predict(flowID, map[string]any{"question": "and now?", "chatId": "resend-0"})
	sent := mock.Requests()[0].Messages
	var earlier []string
	for _, m := range sent {
		earlier = append(earlier, m.Content)
	}
	require.Equal(t, 1, countOf(earlier, "question 0"), "memory holds the first turn once: %q", earlier)
	require.Equal(t, 1, countOf(earlier, llmmock.Answer("question 0")), "memory holds its answer once: %q", earlier)
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
