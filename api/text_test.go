package api

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUnprintableIDsAreRefusedNotFailed: on PostgreSQL an id holding NUL or invalid UTF-8
// made every anonymous route that looks it up answer 500 and log an ERROR. Such an id can
// name nothing: it is 404 in a path and 400 in a query, and nothing is logged as an error.
func TestUnprintableIDsAreRefusedNotFailed(t *testing.T) {
	a := newTestAPI(t, "postgres")
	flow := a.publicFlow()
	for _, bad := range []string{"%00", "abc%00def", "%FF", "%C3%28", "line%0Abreak"} {
		cases := []struct {
			method, path string
			want         int
		}{
			{"POST", "/api/v1/prediction/" + bad, http.StatusNotFound},
			{"GET", "/api/v1/chatflows-streaming/" + bad, http.StatusNotFound},
			{"POST", "/api/v1/attachments/" + bad + "/chat-1", http.StatusNotFound},
			{"POST", "/api/v1/attachments/" + flow + "/" + bad, http.StatusNotFound},
			{"PUT", "/api/v1/chatmessage/abort/" + bad + "/chat-1", http.StatusNotFound},
			{"GET", "/api/v1/verify/apikey/" + bad, http.StatusNotFound},
			{"GET", "/api/v1/get-upload-file?chatflowId=" + bad + "&chatId=c&fileName=f.txt", http.StatusBadRequest},
			{"GET", "/api/v1/get-upload-file?chatflowId=" + flow + "&chatId=" + bad + "&fileName=f.txt", http.StatusBadRequest},
			// Management routes behave alike, key or not.
			{"GET", "/api/v1/chatflows/" + bad, http.StatusNotFound},
		}
		for _, tc := range cases {
			status, body := a.send(tc.method, tc.path, "application/json", strings.NewReader(`{"question":"hi"}`))
			requireFlowiseError(t, status, body, tc.want, "control characters")
		}
	}
	a.logs.requireNoErrors(t)
}

// TestPredictionRefusesUnstorableText: a NUL (or invalid UTF-8) anywhere in a prediction is
// refused with 400 before anything runs; on PostgreSQL it used to reach the model and then
// fail to save.
func TestPredictionRefusesUnstorableText(t *testing.T) {
	a := newTestAPI(t, "postgres")
	flow := a.publicFlow()
	bodies := map[string]string{
		"question":                     `{"question":"hi\u0000there"}`,
		"history[1].content":           `{"question":"hi","history":[{"role":"userMessage","content":"ok"},{"role":"apiMessage","content":"\u0000"}]}`,
		"form.name":                    `{"form":{"name":"a\u0000b"}}`,
		"overrideConfig.vars.tone":     `{"question":"hi","overrideConfig":{"vars":{"tone":"\u0000"}}}`,
		"a key of overrideConfig.vars": `{"question":"hi","overrideConfig":{"vars":{"t\u0000ne":"dry"}}}`,
		"uploads[0].name":              `{"question":"hi","uploads":[{"type":"file:full","name":"a\u0000.txt","data":"text"}]}`,
		"uploads[0].data":              `{"question":"hi","uploads":[{"type":"file:full","name":"a.txt","data":"te\u0000xt"}]}`,
		"leadEmail":                    `{"question":"hi","leadEmail":"a\u0000@b.c"}`,
		"humanInput.feedback":          `{"chatId":"c1","humanInput":{"type":"reject","feedback":"no\u0000"}}`,
	}
	for field, body := range bodies {
		status, answer := a.send("POST", "/api/v1/prediction/"+flow, "application/json", strings.NewReader(body))
		requireFlowiseError(t, status, answer, http.StatusBadRequest, field+" must not contain NUL")
	}

	// Multipart fields are raw bytes: invalid UTF-8 is refused as well.
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	require.NoError(t, w.WriteField("question", "caf\xe9"))
	require.NoError(t, w.Close())
	status, answer := a.send("POST", "/api/v1/prediction/"+flow, w.FormDataContentType(), &buf)
	requireFlowiseError(t, status, answer, http.StatusBadRequest, "question must not contain NUL characters or invalid UTF-8")
	a.logs.requireNoErrors(t)
}

// TestPredictionValidatesSessionID: overrideConfig.sessionId names the chat when chatId is
// absent, so it is held to chatId's rules: at most 200 characters, no control characters.
func TestPredictionValidatesSessionID(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	flow := a.publicFlow()
	for id, want := range map[string]string{
		"a\tb":                   "overrideConfig.sessionId must not contain control characters",
		"bell\u0007":             "overrideConfig.sessionId must not contain control characters",
		strings.Repeat("s", 201): "overrideConfig.sessionId must be at most 200 characters",
		strings.Repeat("s", 900): "overrideConfig.sessionId must be at most 200 characters",
	} {
		for _, chatID := range []string{"", "c1"} { // checked whether or not it names the chat
			body, err := json.Marshal(map[string]any{"question": "hi", "chatId": chatID, "overrideConfig": map[string]any{"sessionId": id}})
			require.NoError(t, err)
			status, answer := a.send("POST", "/api/v1/prediction/"+flow, "application/json", bytes.NewReader(body))
			requireFlowiseError(t, status, answer, http.StatusBadRequest, want)
		}
	}
	status, answer := a.send("POST", "/api/v1/prediction/"+flow, "application/json", strings.NewReader(`{"question":"hi","chatId":"c\u0001"}`))
	requireFlowiseError(t, status, answer, http.StatusBadRequest, "chatId must not contain control characters")
}

func TestPredictionProblemAcceptsOrdinaryRequests(t *testing.T) {
	ok := predictionBody{
		Question:       "Line one\nline two\ttabbed, ünïcode ✓",
		ChatID:         strings.Repeat("c", 200),
		OverrideConfig: rawObject(`{"sessionId": "session-1", "vars": {"tone": "dry"}, "temperature": 0.2}`),
		Form:           rawObject(`{"list": ["a", 1, null, {"k": "v"}]}`),
	}
	require.Empty(t, ok.problem())
	require.Empty(t, predictionBody{}.problem())
}
