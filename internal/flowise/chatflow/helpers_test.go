package chatflow_test

import (
	"testing"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

func allKnown(string) bool { return true }

// mkNode builds a node the way Parse leaves it (data.id set, outputs never nil).
func mkNode(id, name, category string, inputs map[string]any) chatflow.Node {
	if inputs == nil {
		inputs = map[string]any{}
	}
	return chatflow.Node{ID: id, Type: "customNode", Data: chatflow.NodeData{
		ID: id, Name: name, Label: name, Category: category,
		Inputs: inputs, Outputs: map[string]string{},
	}}
}

func mkEdge(source, target string) chatflow.Edge {
	return chatflow.Edge{Source: source, SourceHandle: source + "-output", Target: target, TargetHandle: target + "-input"}
}

func model(id string, inputs map[string]any) chatflow.Node {
	return mkNode(id, "chatOpenAI", chatflow.CategoryChatModels, inputs)
}

func prompt(id string) chatflow.Node { return mkNode(id, "promptTemplate", "Prompts", nil) }

func chain(id string, inputs map[string]any) chatflow.Node {
	return mkNode(id, "llmChain", chatflow.CategoryChains, inputs)
}

func readFlow(t testing.TB, rel string) string {
	t.Helper()
	return string(fixture.Read(t, "flows", rel))
}

func compileFile(t testing.TB, rel string) *chatflow.Plan {
	t.Helper()
	g, err := chatflow.Parse(readFlow(t, rel))
	require.NoError(t, err)
	p, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	return p
}

func stepIDs(p *chatflow.Plan) []string {
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
