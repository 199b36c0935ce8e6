package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/models"
)

// TestDirectBaselineRunsTheFlowsNodes: the matrix's direct rows answer with what the benchmark
// flow's nodes answer (one model call each) and store the turn, as Flowgate would.
func TestDirectBaselineRunsTheFlowsNodes(t *testing.T) {
	mock, err := llmmock.Start(llmmock.Options{})
	require.NoError(t, err)
	t.Cleanup(mock.Close)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	served := make(chan error, 1)
	go func() { served <- ServeDirect(ctx, "127.0.0.1:0", dir, mock.URL, w) }()
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	m := directLine.FindStringSubmatch(line)
	require.NotNil(t, m, line)

	resp, err := http.Post("http://127.0.0.1:"+m[1]+"/api/v1/prediction/any", "application/json", strings.NewReader(`{"question":"hi"}`))
	require.NoError(t, err)
	var ans struct {
		Text   string `json:"text"`
		ChatID string `json:"chatId"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ans))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, llmmock.Answer("You are a benchmark bot. Reply to: hi"), ans.Text)
	require.Equal(t, 1, mock.Calls())

	resp, err = http.Post("http://127.0.0.1:"+m[1]+"/api/v1/prediction/any", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	cancel()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the direct baseline did not stop")
	}
	db, err := models.Open(context.Background(), models.DBConfig{Type: "sqlite", Path: dir})
	require.NoError(t, err)
	msgs, err := models.NewStore(db).ListMessages(context.Background(), models.MessageFilter{ChatflowID: "any", ChatID: ans.ChatID})
	require.NoError(t, err)
	require.Len(t, msgs, 2, "the turn is stored")
}
