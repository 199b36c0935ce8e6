package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/flowgate/flowgate/api"
)

// TestRecordHistories writes real run histories for the workflow replay test. It runs only when
// FLOWGATE_RECORD_HISTORY names the output directory (workflows/testdata): record again when a
// deliberate, versioned workflow change makes the old histories obsolete.
func TestRecordHistories(t *testing.T) {
	dir := os.Getenv("FLOWGATE_RECORD_HISTORY")
	if dir == "" {
		t.Skip("set FLOWGATE_RECORD_HISTORY=<dir> to record histories")
	}
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-record"})
	for _, f := range []struct{ file, out string }{
		{"llm-chain.json", "llm-chain.history.json"},
		{"conversation-chain.json", "conversation-chain.history.json"},
	} {
		id := h.createFlow(f.file, h.loadFlow(f.file, cred), nil)
		ans := h.predict(id, map[string]any{"question": "record me", "chatId": "record"})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		iter := h.app.Temporal().GetWorkflowHistory(ctx, api.WorkflowID(id, ans.ChatID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		hist := &historypb.History{}
		for iter.HasNext() {
			ev, err := iter.Next()
			require.NoError(t, err)
			hist.Events = append(hist.Events, ev)
		}
		cancel()
		raw, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.out), raw, 0o644))
	}
}
