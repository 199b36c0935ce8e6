package api

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

// TestMultipartPredictionFieldsBecomeOverrides: as in Flowise, a multipart prediction's plain
// fields other than the request's own are overrideConfig entries, vars as JSON.
func TestMultipartPredictionFieldsBecomeOverrides(t *testing.T) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range map[string]string{
		"question": "hi", "chatId": "c1", "streaming": "true",
		"sessionId": "s1", "vars": `{"tone":"dry"}`, "temperature": "0.2",
	} {
		require.NoError(t, w.WriteField(k, v))
	}
	part, err := w.CreateFormFile("files", "a.txt")
	require.NoError(t, err)
	_, err = part.Write([]byte("file body"))
	require.NoError(t, err)
	require.NoError(t, w.Close())

	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/api/v1/prediction/x", &buf)
	c.Request.Header.Set("Content-Type", w.FormDataContentType())
	body, form, ok := readPrediction(c)
	require.True(t, ok)
	defer form.RemoveAll()
	require.Equal(t, "hi", body.Question)
	require.Equal(t, "c1", body.ChatID)
	require.True(t, bool(body.Streaming))
	overrides, err := body.OverrideConfig.object()
	require.NoError(t, err)
	require.Equal(t, map[string]any{"sessionId": "s1", "vars": map[string]any{"tone": "dry"}, "temperature": "0.2"}, overrides)
	require.Len(t, form.File["files"], 1)
	chatID, sessionID := body.conversation()
	require.Equal(t, "c1", chatID)
	require.Equal(t, "s1", sessionID)
}
