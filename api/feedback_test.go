package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/models"
)

// turn saves a question and its answer in a chat and returns the answer's id.
func (a *testAPI) turn(flowID, chatID, answerID string, at time.Time) string {
	a.t.Helper()
	require.NoError(a.t, a.store.SaveMessages(context.Background(),
		models.ChatMessage{ID: answerID[:35] + "0", Role: models.RoleUser, ChatflowID: flowID, ChatID: chatID, Content: "q", ChatType: "EXTERNAL", CreatedDate: at},
		models.ChatMessage{ID: answerID, Role: models.RoleAPI, ChatflowID: flowID, ChatID: chatID, Content: "a", ChatType: "EXTERNAL", CreatedDate: at.Add(time.Millisecond)}))
	return answerID
}

// TestFeedback: the widget rates an answer (with the chatflow in the path, as it posts, or in
// the body), adds its reason, and changes its mind; a management key lists the ratings of a
// chatflow, by chat, order and dates. Feedback goes with its messages.
func TestFeedback(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			a := newTestAPI(t, db)
			flow := a.publicFlow()
			day := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			m1 := a.turn(flow, "chat-1", "00000000-0000-4000-8000-0000000000a1", day)
			m2 := a.turn(flow, "chat-2", "00000000-0000-4000-8000-0000000000a2", day.AddDate(0, 0, 1))

			var up models.ChatMessageFeedback
			a.call("POST", "/api/v1/feedback/"+flow, fmt.Sprintf(`{"chatflowid":%q,"chatId":"chat-1","messageId":%q,"rating":"THUMBS_UP","content":""}`, flow, m1), http.StatusOK, &up)
			require.NotEmpty(t, up.ID)
			require.Equal(t, models.ChatMessageFeedback{ID: up.ID, ChatflowID: flow, ChatID: "chat-1", MessageID: m1, Rating: "THUMBS_UP", Content: new(string), CreatedDate: up.CreatedDate}, up)
			var down models.ChatMessageFeedback
			a.call("POST", "/api/v1/feedback", fmt.Sprintf(`{"messageId":%q,"rating":"THUMBS_DOWN"}`, m2), http.StatusOK, &down)
			require.Equal(t, "chat-2", down.ChatID, "chat and chatflow come from the message")
			require.Equal(t, flow, down.ChatflowID)

			var status map[string]string
			a.call("PUT", "/api/v1/feedback/"+down.ID, `{"content":"too vague"}`, http.StatusOK, &status)
			require.Equal(t, map[string]string{"status": "OK"}, status)
			a.call("PUT", "/api/v1/feedback/"+up.ID, `{"rating":"THUMBS_DOWN","chatId":"chat-1"}`, http.StatusOK, nil)

			list := func(query string) []models.ChatMessageFeedback {
				var out []models.ChatMessageFeedback
				a.call("GET", "/api/v1/feedback/"+flow+query, "", http.StatusOK, &out)
				return out
			}
			all := list("")
			require.Len(t, all, 2)
			require.Equal(t, []string{up.ID, down.ID}, []string{all[0].ID, all[1].ID}, "oldest first")
			require.Equal(t, "THUMBS_DOWN", all[0].Rating)
			require.Equal(t, "too vague", *all[1].Content)
			require.Equal(t, down.ID, list("?order=DESC")[0].ID)
			require.Equal(t, []models.ChatMessageFeedback{all[1]}, list("?chatId=chat-2"))
			require.Empty(t, list("?chatId=chat-3"))
			// Dates bound the feedback's own creation: all of it is from today.
			today := time.Now().UTC().Format(time.DateOnly)
			require.Len(t, list("?startDate="+today+"&endDate="+today), 2)
			require.Empty(t, list("?endDate=2000-01-01"))
			require.Len(t, list("?startDate=2000-01-01T00:00:00Z"), 2)

			// Deleting a chat's messages deletes their feedback.
			a.call("DELETE", "/api/v1/chatmessage/"+flow+"?chatId=chat-2", "", http.StatusOK, nil)
			require.Equal(t, []string{up.ID}, []string{list("")[0].ID})
			require.Len(t, list(""), 1)
			a.logs.requireNoErrors(t)
		})
	}
}

// TestFeedbackErrors: bad feedback gets Flowise's error shape and the client's status, never 500.
func TestFeedbackErrors(t *testing.T) {
	a := newTestAPI(t, "postgres")
	flow := a.publicFlow()
	other := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-000000000401", Name: "other", FlowData: "{}"}).ID
	msg := a.turn(flow, "chat-1", "00000000-0000-4000-8000-0000000000b1", time.Now())
	var fb models.ChatMessageFeedback
	a.call("POST", "/api/v1/feedback/"+flow, fmt.Sprintf(`{"messageId":%q,"rating":"THUMBS_UP"}`, msg), http.StatusOK, &fb)
	unknown := "1a2b3c4d-0000-4000-8000-00000000dead"

	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/api/v1/feedback/" + flow, `{"messageId":`, http.StatusBadRequest, "invalid JSON body"},
		{"POST", "/api/v1/feedback/" + flow, `{"rating":"THUMBS_UP"}`, http.StatusBadRequest, "Message ID is required"},
		{"POST", "/api/v1/feedback/" + flow, `{"messageId":"` + msg + `","rating":"MEH"}`, http.StatusBadRequest, "rating must be THUMBS_UP or THUMBS_DOWN"},
		{"POST", "/api/v1/feedback/" + flow, `{"messageId":"` + msg + `"}`, http.StatusBadRequest, "rating must be THUMBS_UP or THUMBS_DOWN"},
		{"POST", "/api/v1/feedback/" + flow, `{"messageId":"a\u0000b","rating":"THUMBS_UP"}`, http.StatusBadRequest, "messageId must not contain NUL"},
		{"POST", "/api/v1/feedback/" + flow, `{"messageId":"` + unknown + `","rating":"THUMBS_UP"}`, http.StatusNotFound, "Message with ID " + unknown + " not found"},
		{"POST", "/api/v1/feedback/" + unknown, `{"messageId":"` + msg + `","rating":"THUMBS_UP"}`, http.StatusNotFound, "Chatflow " + unknown + " not found"},
		{"POST", "/api/v1/feedback/" + other, `{"messageId":"` + msg + `","rating":"THUMBS_UP"}`, http.StatusBadRequest, "Inconsistent chatflow ID: message with ID " + msg + " does not belong to chatflow with ID " + other},
		{"POST", "/api/v1/feedback/" + flow, `{"chatflowid":"` + other + `","messageId":"` + msg + `","rating":"THUMBS_UP"}`, http.StatusBadRequest, "Inconsistent chatflow ID: the path names chatflow"},
		{"POST", "/api/v1/feedback/" + flow, `{"chatId":"chat-9","messageId":"` + msg + `","rating":"THUMBS_UP"}`, http.StatusBadRequest, "Inconsistent chat ID: message with ID " + msg + " does not belong to chat with ID chat-9"},
		{"POST", "/api/v1/feedback/" + flow, `{"messageId":"` + msg + `","rating":"THUMBS_DOWN"}`, http.StatusConflict, `Feedback for message "` + msg + `" already exists`},
		{"PUT", "/api/v1/feedback/" + unknown, `{"content":"x"}`, http.StatusNotFound, "Feedback with ID " + unknown + " not found"},
		{"PUT", "/api/v1/feedback/" + fb.ID, `{"rating":"MEH"}`, http.StatusBadRequest, "rating must be"},
		{"PUT", "/api/v1/feedback/" + fb.ID, `{"messageId":"` + unknown + `"}`, http.StatusBadRequest, "Inconsistent message ID"},
		{"PUT", "/api/v1/feedback/" + fb.ID, `{"chatflowid":"` + other + `"}`, http.StatusBadRequest, "Inconsistent chatflow ID"},
		{"PUT", "/api/v1/feedback/" + fb.ID, `[]`, http.StatusBadRequest, "invalid JSON body"},
		{"GET", "/api/v1/feedback/" + unknown, "", http.StatusNotFound, "Chatflow " + unknown + " not found"},
		{"GET", "/api/v1/feedback/" + flow + "?startDate=yesterday", "", http.StatusBadRequest, "startDate must be an ISO 8601 date"},
	} {
		a.requireError(c.method, c.path, c.body, c.status, c.want)
	}
	// Listing is for keys only; rating a chatflow bound to a key takes that key.
	resp := a.raw("GET", "/api/v1/feedback/"+flow, "")
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusUnauthorized, "Unauthorized")
	var keys []struct {
		ID string `json:"id"`
	}
	a.call("GET", "/api/v1/apikey", "", http.StatusOK, &keys)
	bound := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-000000000402", Name: "bound", FlowData: "{}", APIKeyID: &keys[0].ID}).ID
	boundMsg := a.turn(bound, "chat-1", "00000000-0000-4000-8000-0000000000b2", time.Now())
	resp = a.raw("POST", "/api/v1/feedback/"+bound, `{"messageId":"`+boundMsg+`","rating":"THUMBS_UP"}`)
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusUnauthorized, "Unauthorized")
	resp = a.raw("POST", "/api/v1/feedback", `{"messageId":"`+boundMsg+`","rating":"THUMBS_UP"}`)
	requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusUnauthorized, "Unauthorized")
	a.call("POST", "/api/v1/feedback/"+bound, `{"messageId":"`+boundMsg+`","rating":"THUMBS_UP"}`, http.StatusOK, nil)
	a.logs.requireNoErrors(t)
}

// TestLeads: the widget's lead form stores a lead of the chatflow it names (a new chat id when
// it names none), and a management key lists them; bad leads get the client's status.
func TestLeads(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			a := newTestAPI(t, db)
			flow := a.publicFlow()
			type leadView struct {
				ID, ChatflowID, ChatID string
				Name, Email, Phone     *string
				CreatedDate            time.Time
			}
			var first, second leadView
			resp := a.raw("POST", "/api/v1/leads/", fmt.Sprintf(`{"chatflowid":%q,"chatId":"chat-1","name":"Ada","email":"ada@example.com","phone":"+44 1"}`, flow))
			require.Equal(t, http.StatusOK, resp.StatusCode, resp.body)
			a.call("POST", "/api/v1/leads", fmt.Sprintf(`{"chatflowid":%q,"email":"bob@example.com","id":"chosen","createdDate":"2000-01-01T00:00:00Z"}`, flow), http.StatusOK, &second)
			require.NotEmpty(t, second.ChatID, "a lead without a chat gets one")
			require.NotEqual(t, "chosen", second.ID)
			require.Nil(t, second.Name)
			require.Equal(t, "bob@example.com", *second.Email)

			var listed []leadView
			a.call("GET", "/api/v1/leads/"+flow, "", http.StatusOK, &listed)
			require.Len(t, listed, 2)
			first = listed[0]
			require.Equal(t, "chat-1", first.ChatID)
			require.Equal(t, "Ada", *first.Name)
			require.Equal(t, "+44 1", *first.Phone)
			require.Equal(t, second.ID, listed[1].ID)
			require.WithinDuration(t, time.Now(), listed[1].CreatedDate, time.Minute)

			unknown := "1a2b3c4d-0000-4000-8000-00000000dead"
			for _, c := range []struct {
				method, path, body string
				status             int
				want               string
			}{
				{"POST", "/api/v1/leads/", `{"chatflowid":`, http.StatusBadRequest, "invalid JSON body"},
				{"POST", "/api/v1/leads/", `{"name":"Ada"}`, http.StatusBadRequest, "chatflowid is required"},
				{"POST", "/api/v1/leads/", `{"chatflowid":"a\u0000b"}`, http.StatusBadRequest, "chatflowid is required, without control characters"},
				{"POST", "/api/v1/leads/", `{"chatflowid":"` + unknown + `"}`, http.StatusNotFound, "Chatflow " + unknown + " not found"},
				{"POST", "/api/v1/leads/", `{"chatflowid":"` + flow + `","name":"A\u0000da"}`, http.StatusBadRequest, "name must not contain NUL"},
				{"POST", "/api/v1/leads/", `{"chatflowid":"` + flow + `","chatId":"a\nb"}`, http.StatusBadRequest, "chatId must not contain control characters"},
				{"GET", "/api/v1/leads/" + unknown, "", http.StatusNotFound, "Chatflow " + unknown + " not found"},
			} {
				a.requireError(c.method, c.path, c.body, c.status, c.want)
			}
			resp = a.raw("GET", "/api/v1/leads/"+flow, "")
			requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusUnauthorized, "Unauthorized")
			a.logs.requireNoErrors(t)
		})
	}
}
