package loadtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// predictionBody is what the load generator sends.
type predictionBody struct {
	Question  string `json:"question"`
	ChatID    string `json:"chatId"`
	Streaming bool   `json:"streaming"`
}

// fakeFlowise is a prediction endpoint whose answer a test chooses per request; it records
// every request it receives.
type fakeFlowise struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  []predictionBody
	headers []http.Header
}

// newFakeFlowise serves answer for /api/v1/prediction/flow-1, giving it the request's index
// (the number after the last '-' of its chatId, as the generator numbers them).
func newFakeFlowise(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, index int)) *fakeFlowise {
	t.Helper()
	f := &fakeFlowise{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/prediction/flow-1" {
			http.NotFound(w, r)
			return
		}
		var b predictionBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, b)
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		index, _ := strconv.Atoi(b.ChatID[strings.LastIndexByte(b.ChatID, '-')+1:])
		answer(w, r, index)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeFlowise) received() []predictionBody {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]predictionBody(nil), f.bodies...)
}

// answerJSON answers as Flowise does without streaming.
func answerJSON(w http.ResponseWriter, _ *http.Request, _ int) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"text":"hi","chatId":"x"}`))
}

// answerSSE streams start, two tokens, metadata and end in Flowise's framing.
func answerSSE(w http.ResponseWriter, _ *http.Request, _ int) {
	writeSSE(w, "start", "token", "token", "metadata", "end")
}

func writeSSE(w http.ResponseWriter, events ...string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, ev := range events {
		data := `"x"`
		if ev == "error" {
			data = `"model failed"`
		}
		_, _ = w.Write([]byte("message:\ndata:{\"event\":\"" + ev + "\",\"data\":" + data + "}\n\n"))
		w.(http.Flusher).Flush()
	}
}
