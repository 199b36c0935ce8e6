package agentflow

import (
	"encoding/json"
	"testing"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/stretchr/testify/require"
)

// condTemplateNode returns the inputs of node id in a marketplace AGENTFLOW v2 template.
func condTemplateNode(t *testing.T, template, id string) map[string]any {
	t.Helper()
	raw := fixture.Read(t, "flows", "marketplace", "agentflowsv2", template+".json")
	var flow struct {
		Nodes []struct {
			ID   string `json:"id"`
			Data struct {
				Inputs map[string]any `json:"inputs"`
			} `json:"data"`
		} `json:"nodes"`
	}
	require.NoError(t, json.Unmarshal(raw, &flow))
	for _, n := range flow.Nodes {
		if n.ID == id {
			return n.Data.Inputs
		}
	}
	t.Fatalf("%s has no node %s", template, id)
	return nil
}

// The supervisor's LLM writes {"next": …} into $flow.state.next through its llmUpdateState,
// and the condition node routes on it: SOFTWARE → output 0, REVIEWER → 1, anything else → else.
func TestConditionSupervisorWorkerTemplate(t *testing.T) {
	start := condTemplateNode(t, "Supervisor Worker", "startAgentflow_0")
	supervisor := condTemplateNode(t, "Supervisor Worker", "llmAgentflow_0")
	condition := condTemplateNode(t, "Supervisor Worker", "conditionAgentflow_0")

	state, err := InitialState(start["startState"])
	require.NoError(t, err)
	require.Equal(t, map[string]any{"next": "", "instruction": ""}, state)

	for _, c := range []struct {
		next string
		want int
	}{{"SOFTWARE", 0}, {"REVIEWER", 1}, {"FINISH", 2}} {
		scope := VarsScope{Question: "Build a todo app", State: state}
		updated, err := ApplyStateUpdates(state, supervisor["llmUpdateState"], scope)
		require.NoError(t, err)
		// The editor's rich text is gone and {{ output.* }} waits for the node's result.
		require.Equal(t, "{{ output.next }}", updated["next"])
		updated = ApplyOutputToState(updated, `{"next":"`+c.next+`","instructions":"do it"}`)
		require.Equal(t, map[string]any{"next": c.next, "instruction": "do it"}, updated)

		scope.State = updated
		conds, err := ParseConditions(scope.ResolveAny(condition["conditions"]))
		require.NoError(t, err)
		require.Equal(t, []Condition{
			{Type: "string", Value1: c.next, Operation: "equal", Value2: "SOFTWARE"},
			{Type: "string", Value1: c.next, Operation: "equal", Value2: "REVIEWER"},
		}, conds)
		branches, err := ChooseBranches(conds)
		require.NoError(t, err)
		require.Equal(t, []int{c.want}, branches, c.next)
	}
	// The original state map was never changed.
	require.Equal(t, map[string]any{"next": "", "instruction": ""}, state)
}
