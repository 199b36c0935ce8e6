package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// TestLeanVisibilityKeepsTheRunListSearchable: the embedded server's visibility database keeps
// only the indexes its users search by, from the first start and again after a restart (the
// index of the keyword slot the namespace's attribute occupies, of the ten, comes back if it
// went missing), and the run list still finds runs by id, by type, by status and by a custom
// keyword attribute.
func TestLeanVisibilityKeepsTheRunListSearchable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.db")
	chatKey := temporal.NewSearchAttributeKeyKeyword("FlowiseChatId")
	opts := Options{DatabaseFile: file, UIPort: -1, Namespace: "default",
		SearchAttributes: map[string]enumspb.IndexedValueType{"FlowiseChatId": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}
	start := func() (*Server, client.Client) {
		srv, err := Start(opts)
		require.NoError(t, err)
		c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default"})
		require.NoError(t, err)
		return srv, c
	}
	srv, c := start()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// No worker runs it: the run stays open, which is what the list shows first.
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "chat:flow:lean", TaskQueue: "nobody",
		TypedSearchAttributes: temporal.NewSearchAttributes(chatKey.ValueSet("lean"))}, "prediction")
	require.NoError(t, err)
	c.Close()
	srv.Stop()

	visFile := filepath.Join(filepath.Dir(file), "temporal-visibility.db")
	state, err := sqliteStore(file, "state")
	require.NoError(t, err)
	fields, err := searchAttributeFields(state)
	require.NoError(t, err)
	require.Len(t, fields, 1, "the one custom attribute occupies one column")
	var chatColumn string
	for field := range fields {
		chatColumn = field
	}
	require.Regexp(t, `^Keyword(0[1-9]|10)$`, chatColumn)
	chatIndex := "by_keyword_" + strings.TrimPrefix(chatColumn, "Keyword")
	db, err := sql.Open("sqlite", "file:"+visFile)
	require.NoError(t, err)
	_, err = db.Exec("DROP INDEX " + chatIndex) // as if an earlier start had dropped it
	require.NoError(t, err)
	require.NoError(t, db.Close())

	srv, c = start() // a restart drops nothing more, restores the used slot's index, breaks nothing
	defer srv.Stop()
	defer c.Close()
	for _, query := range []string{
		"", "WorkflowId = 'chat:flow:lean'", "WorkflowType = 'prediction'", "ExecutionStatus = 'Running'",
		"FlowiseChatId = 'lean'", "TaskQueue = 'nobody'", // a dropped index: read without it
	} {
		require.Eventually(t, func() bool {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query})
			return err == nil && len(resp.GetExecutions()) == 1 && resp.GetExecutions()[0].GetExecution().GetWorkflowId() == "chat:flow:lean"
		}, 20*time.Second, 50*time.Millisecond, "query %q", query)
	}

	db, err = sql.Open("sqlite", "file:"+visFile+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var inColumn int // the run's chat id is in the column the namespace's record names
	require.NoError(t, db.QueryRow("SELECT count(*) FROM executions_visibility WHERE "+chatColumn+" = 'lean'").Scan(&inColumn))
	require.Equal(t, 1, inColumn)
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions_visibility' AND sql IS NOT NULL`)
	require.NoError(t, err)
	var indexes []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		indexes = append(indexes, name)
	}
	require.NoError(t, rows.Err())
	for _, kept := range []string{"default_idx", "by_workflow_id", "by_workflow_type", "by_status", chatIndex} {
		require.Contains(t, indexes, kept)
	}
	for _, dropped := range droppedVisibilityIndexes {
		require.False(t, slices.Contains(indexes, dropped), "index %s is still there", dropped)
	}
	for slot := 1; slot <= keywordSlots; slot++ {
		if index := fmt.Sprintf("by_keyword_%02d", slot); index != chatIndex {
			require.False(t, slices.Contains(indexes, index), "the unused slot's index %s is still there", index)
		}
	}
}
