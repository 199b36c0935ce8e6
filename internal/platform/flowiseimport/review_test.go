package flowiseimport

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/testkit/fixture"
	"github.com/flowgate/flowgate/models"
)

// TestExportRowsNeedGoodUniqueIDs: an id given twice in a table (a flow under both ChatFlow and
// AgentFlowV2 included), one longer than Flowise's varchar(36) or with control characters is a
// RowError naming it; NUL bytes are taken out of values, as Flowise does.
func TestExportRowsNeedGoodUniqueIDs(t *testing.T) {
	flow := func(id, typ string) string {
		return `{"id":"` + id + `","name":"n","flowData":"{}","type":"` + typ + `","createdDate":"2026-01-01T00:00:00Z","updatedDate":"2026-01-01T00:00:00Z"}`
	}
	variable := func(id, name string) string {
		return `{"id":"` + id + `","name":"` + name + `","type":"static","createdDate":"2026-01-01T00:00:00Z","updatedDate":"2026-01-01T00:00:00Z"}`
	}
	for body, want := range map[string]string{
		`{"ChatFlow":[` + flow("f1", "CHATFLOW") + `],"AgentFlowV2":[` + flow("f1", "AGENTFLOW") + `]}`: "chat_flow row f1: column id: the same id is given twice",
		`{"Variable":[` + variable("v1", "a") + `,` + variable("v1", "b") + `]}`:                        "variable row v1: column id: the same id is given twice",
		`{"Variable":[` + variable(strings.Repeat("x", 37), "a") + `]}`:                                 "at most 36 characters",
		`{"Variable":[` + variable(`a\u0001b`, "a") + `]}`:                                              "printable characters only",
		`{"Variable":[` + variable(`a b`, "a") + `]}`:                                                   "printable characters only",
	} {
		_, err := ParseExport(strings.NewReader(body), 1<<20)
		var rowErr *RowError
		require.ErrorAs(t, err, &rowErr, body)
		require.ErrorContains(t, err, want, body)
	}
	d, err := ParseExport(strings.NewReader(`{"Variable":[`+variable(`v\u00002`, `na\u0000me`)+`]}`), 1<<20)
	require.NoError(t, err)
	require.Equal(t, "v2", d.Variables[0].ID)
	require.Equal(t, "name", d.Variables[0].Name)
}

// TestFailedWriteLeavesNothing: a write that fails, however late, leaves no row of any kind and
// no API key: a feedback whose message already has another (caught before writing, named), and
// a refusal of the last kind written (executions) by the database itself.
func TestFailedWriteLeavesNothing(t *testing.T) {
	ctx := context.Background()
	src, _ := sqliteSource(t)
	data, err := ReadDatabase(ctx, src, true)
	require.NoError(t, err)
	require.NotEmpty(t, data.Feedback)
	require.NotEmpty(t, data.Executions)

	requireNothing := func(t *testing.T, dst Destination, db *gorm.DB) {
		t.Helper()
		var n int64
		require.NoError(t, db.Model(&models.ChatFlow{}).Count(&n).Error)
		require.Zero(t, n, "no flow was left behind")
		require.NoError(t, db.Model(&models.Credential{}).Count(&n).Error)
		require.Zero(t, n)
		keys, err := dst.Keys.List(ctx)
		require.NoError(t, err)
		require.Empty(t, keys, "no API key was written")
	}

	t.Run("feedback message", func(t *testing.T) {
		dst, db := destination(t)
		other := data.Feedback[0]
		other.ID = "00000000-0000-4000-8000-000000000001"
		require.NoError(t, db.Create(&other).Error)
		_, err := Apply(ctx, dst, data, false)
		require.ErrorIs(t, err, ErrConflict)
		require.ErrorContains(t, err, "feedback "+data.Feedback[0].ID)
		require.ErrorContains(t, err, "Flowgate already has feedback "+other.ID+" with that messageId")
		require.NoError(t, db.Delete(&other).Error)
		requireNothing(t, dst, db)
	})
	t.Run("last kind", func(t *testing.T) {
		dst, db := destination(t)
		keysDir := t.TempDir()
		dst.Keys = apikeys.NewJSONStore(keysDir)
		require.NoError(t, db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON execution BEGIN SELECT RAISE(ABORT, 'forced failure'); END`).Error)
		_, err := Apply(ctx, dst, data, false)
		require.ErrorContains(t, err, "import executions: ")
		require.ErrorContains(t, err, "forced failure")
		requireNothing(t, dst, db)
		_, err = os.Stat(filepath.Join(keysDir, apikeys.FileName))
		require.True(t, errors.Is(err, os.ErrNotExist), "api.json is not written")
	})
}

// TestKeepHistoryOnlyAdds: with KeepHistory (the upload route) history already here under an id
// stays as it is, and the notes say how much differed; flows are still updated.
func TestKeepHistoryOnlyAdds(t *testing.T) {
	ctx := context.Background()
	src, _ := sqliteSource(t)
	data, err := ReadDatabase(ctx, src, true)
	require.NoError(t, err)
	dst, db := destination(t)
	_, err = Apply(ctx, dst, data, false)
	require.NoError(t, err)

	msg := data.Messages[0]
	data.Messages[0].Content = "rewritten"
	data.Flows[0].Name = "Renamed"
	dst.KeepHistory = true
	rep, err := Apply(ctx, dst, data, false)
	require.NoError(t, err)
	require.Equal(t, [3]int{0, 0, len(data.Messages)}, counts(rep)["chat messages"])
	require.Equal(t, 1, counts(rep)["chatflows"][1]+counts(rep)["agentflows"][1])
	require.Contains(t, rep.String(), "1 chat messages differ from what Flowgate has under the same id and were left as they are")
	var got models.ChatMessage
	require.NoError(t, db.First(&got, "id = ?", msg.ID).Error)
	require.Equal(t, msg.Content, got.Content)
}

// TestSummaryNamesWhatStaysBehind: restricted API keys are named (they gain every route), and
// the rows left in Flowise are counted: chat history without --messages, columns Flowgate does
// not keep.
func TestSummaryNamesWhatStaysBehind(t *testing.T) {
	src, _ := sqliteSource(t)
	data, err := ReadDatabase(context.Background(), src, false)
	require.NoError(t, err)
	notes := strings.Join(data.Notes, "\n")
	require.Contains(t, notes, "(ci-key) had restricted permissions in Flowise")
	require.NotContains(t, notes, "(DefaultKey) had restricted")
	require.Contains(t, notes, "Flowise's workspaceId of each row stays behind")
	require.NotContains(t, notes, "chat_flow.workspaceId")
	require.Equal(t, 10, data.Skipped["chat messages (chat history: add --messages to move it)"], data.Skipped)

	data.SkipRestrictedKeys()
	require.Len(t, data.APIKeys, 1)
	require.Equal(t, "DefaultKey", data.APIKeys[0].Name)
	notes = strings.Join(data.Notes, "\n")
	require.Contains(t, notes, "(ci-key) had restricted permissions in Flowise: not imported (--skip-restricted-keys)")
	require.NotContains(t, notes, "in Flowgate it may call every route: delete it")
}

// TestFlowiseExportFile: an export file in Flowise's shape (every column of its entities,
// workspaceId included, numbers and booleans as JSON, each execution with its agentflow nested)
// imports the fixture's rows.
func TestFlowiseExportFile(t *testing.T) {
	data, err := ParseExport(bytes.NewReader(fixture.Read(t, "flowise-3.1.2", "export", "ExportData.json")), 1<<20)
	require.NoError(t, err)
	dst, _ := destination(t)
	rep, err := Apply(context.Background(), dst, data, false)
	require.NoError(t, err)
	require.Equal(t, map[string][3]int{
		"chatflows": {3, 0, 0}, "agentflows": {1, 0, 0}, "credentials": {}, "variables": {2, 0, 0},
		"custom tools": {1, 0, 0}, "document stores": {1, 0, 0}, "document chunks": {3, 0, 0},
		"chat messages": {10, 0, 0}, "feedback": {1, 0, 0}, "leads": {}, "executions": {1, 0, 0}, "API keys": {},
	}, counts(rep))
}
