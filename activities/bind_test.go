package activities

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/activities/chatnodes"
	"github.com/flowgate/flowgate/workflows/node"
)

// A kinds table row whose method is missing or has the wrong shape stops Register, naming the
// kind, instead of registering nothing or panicking at the first call.
func TestMethodRefusesARowWithoutItsCode(t *testing.T) {
	nodes := &chatnodes.Nodes{}
	_, err := method[chatnodes.Func](nodes, node.Kind{Name: "fooChain", Family: node.ChatNode, Run: "FooChain"})
	require.ErrorContains(t, err, "kind fooChain")
	require.ErrorContains(t, err, "no method FooChain")

	_, err = method[chatnodes.Func](nodes, node.Kind{Name: "chatOpenAI", Family: node.ChatNode, Run: "Secret"})
	require.ErrorContains(t, err, "not a func(context.Context, node.Request) (node.Value, error)")

	fn, err := method[chatnodes.Func](nodes, node.Kind{Name: "llmChain", Family: node.ChatNode, Run: "LLMChain"})
	require.NoError(t, err)
	require.NotNil(t, fn)
}
