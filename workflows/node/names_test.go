package node_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/activities"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

var update = flag.Bool("update", false, "rewrite testdata/names.golden with the names registered now")

// recorder records the names a worker registers.
type recorder struct{ names []string }

func (r *recorder) RegisterWorkflow(any) { panic("every workflow is registered under its frozen name") }
func (r *recorder) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	r.names = append(r.names, "workflow "+o.Name)
}
func (r *recorder) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {
	panic("no dynamic workflows")
}
func (r *recorder) RegisterActivity(any) { panic("every activity is registered under its frozen name") }
func (r *recorder) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	r.names = append(r.names, "activity "+o.Name)
}
func (r *recorder) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {
	panic("no dynamic activities")
}

// TestFrozenNames fails when a name that workflow histories record changes or disappears:
// every workflow type and activity a worker registers, and the update, query, version marker,
// id formats and events of names.go. A run in flight when a worker with a changed name is
// deployed fails on replay. A new name is added to the golden file with -update; an existing
// one must never change there.
func TestFrozenNames(t *testing.T) {
	r := &recorder{}
	workflows.Register(r)
	require.NoError(t, activities.Register(r, &activities.Deps{}))
	names := append(r.names,
		"update "+node.HumanInputUpdate,
		"query "+node.ExecutedQuery, "query "+node.HumanInputQuery,
		"version "+node.LocalQuickNodesChange,
		"error "+node.ErrFlow, "error "+node.ErrCredential, "error "+node.ErrProvider, "error "+node.ErrNodeFailed, "error "+node.ErrSaveFailed,
		"error "+node.ErrInvalid, "error "+node.ErrNotFound, "error "+node.ErrAborted, "error "+node.ErrProviderUnavailable,
		"search attribute "+node.ChatflowIDAttribute, "search attribute "+node.ChatIDAttribute,
		"memo "+node.MemoChatflowID, "memo "+node.MemoChatID, "memo "+node.MemoSessionID, "memo "+node.MemoRequest, "memo "+node.MemoTopic,
		"workflow id "+node.WorkflowID("<chatflowId>", "<chatId>"),
		"child workflow id "+node.ChildWorkflowID("<parent>", "<key>"),
		"workflow id "+node.UpsertWorkflowID("<storeId>", "<requestId>"),
		"workflow id "+node.QueryWorkflowID("<storeId>", "<requestId>"),
		"derived id "+node.DerivedID("run-1", "apiMessage"),
		"derived id name "+node.UserMessage, "derived id name "+node.APIMessage, "derived id name "+node.UpsertLoader,
		"derived id name "+node.TurnMessageID(2, node.UserMessage), "derived id name "+node.ActionID("<nodeId>", 2),
		"derived id name "+node.ExecuteFlowChatID("<nodeId>", 2, 3), "derived id name "+node.FlowToolChatID(node.FlowToolKey("<nodeId>", 3)),
		"child workflow key "+node.ExecuteFlowKey("<nodeId>", 3), "child workflow key "+node.FlowToolKey("<nodeId>", 3),
		"child workflow key "+node.IterationKey("<nodeId>", 3),
		"event "+node.TokenEvent, "event "+node.ResultEvent, "event "+node.RunEvent, "event "+node.NextAgentFlowEvent,
	)
	// Whether a kind runs as a local or a regular activity is recorded too: the workflow
	// schedules one or the other.
	for _, k := range node.Kinds() {
		how := "local"
		switch {
		case k.Run == "":
			how = "in the workflow"
		case k.CallsOut:
			how = "regular"
		}
		names = append(names, "kind "+k.Name+" runs "+how)
	}
	slices.Sort(names)
	got := strings.Join(names, "\n") + "\n"

	golden := filepath.Join("testdata", "names.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	raw, err := os.ReadFile(golden)
	require.NoError(t, err)
	want := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var missing []string
	for _, name := range want {
		if !slices.Contains(names, name) {
			missing = append(missing, name)
		}
	}
	require.Empty(t, missing, "names recorded in running workflow histories changed or disappeared; never rename one (register both and choose with workflow.GetVersion)")
	require.Equal(t, string(raw), got, "new names are registered: add them with go test ./workflows/node -run TestFrozenNames -update")
}
