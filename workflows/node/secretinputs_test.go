package node_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

func TestRedactSecretInputsKeepsConnectionStringsOutOfThePlan(t *testing.T) {
	sqlChain := func(id, url string) chatflow.Step {
		var s chatflow.Step
		s.Node.ID = id
		s.Node.Data.Name = "sqlDatabaseChain"
		s.Node.Data.Inputs = map[string]any{"database": "postgres", "url": url, "topK": "5"}
		return s
	}
	var model chatflow.Step
	model.Node.ID, model.Node.Data.Name = "chatOpenAI_0", "chatOpenAI"
	model.Node.Data.Inputs = map[string]any{"modelName": "gpt-4o"}
	plan := chatflow.Plan{Ending: "b", Steps: []chatflow.Step{
		model, sqlChain("a", "postgres://u:pw@db/x"), sqlChain("b", "{{$vars.dsn}}"), sqlChain("c", ""),
		sqlChain("d", "postgres://u:pw@db/{{$vars.db}}"),
	}}

	got := node.RedactSecretInputs(plan)
	require.Equal(t, node.RedactedInput, got.Steps[1].Node.Input("url"))
	require.Equal(t, "postgres", got.Steps[1].Node.Input("database"), "other inputs stay")
	require.Equal(t, "{{$vars.dsn}}", got.Steps[2].Node.Input("url"), "a variable reference is no secret")
	require.Empty(t, got.Steps[3].Node.Input("url"))
	require.Equal(t, node.RedactedInput, got.Steps[4].Node.Input("url"), "text around a reference may be a secret")
	require.Equal(t, "gpt-4o", got.Steps[0].Node.Input("modelName"))
	require.Equal(t, "postgres://u:pw@db/x", plan.Steps[1].Node.Input("url"), "the shared, compiled plan is not changed")

	clean := chatflow.Plan{Steps: []chatflow.Step{model}}
	require.Equal(t, clean, node.RedactSecretInputs(clean))
}
