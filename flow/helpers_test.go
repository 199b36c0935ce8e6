package flow_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/flow"
)

// sharedFlows is where the Flowise exports used as fixtures live.
const sharedFlows = "../../shared/flows"

func allKnown(string) bool { return true }

// mkNode builds a node the way Parse leaves it (data.id set, outputs never nil).
func mkNode(id, name, category string, inputs map[string]any) flow.Node {
	if inputs == nil {
		inputs = map[string]any{}
	}
	return flow.Node{ID: id, Type: "customNode", Data: flow.NodeData{
		ID: id, Name: name, Label: name, Category: category,
		Inputs: inputs, Outputs: map[string]string{},
	}}
}

func mkEdge(source, target string) flow.Edge {
	return flow.Edge{Source: source, SourceHandle: source + "-output", Target: target, TargetHandle: target + "-input"}
}

func model(id string, inputs map[string]any) flow.Node {
	return mkNode(id, "chatOpenAI", flow.CategoryChatModels, inputs)
}

func prompt(id string) flow.Node { return mkNode(id, "promptTemplate", "Prompts", nil) }

func chain(id string, inputs map[string]any) flow.Node {
	return mkNode(id, "llmChain", flow.CategoryChains, inputs)
}

func readFlow(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedFlows, rel))
	require.NoError(t, err)
	return string(b)
}

func compileFile(t testing.TB, rel string) *flow.Plan {
	t.Helper()
	g, err := flow.Parse(readFlow(t, rel))
	require.NoError(t, err)
	p, err := flow.Compile(g, allKnown)
	require.NoError(t, err)
	return p
}

func stepIDs(p *flow.Plan) []string {
	ids := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		ids[i] = s.Node.ID
	}
	return ids
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
