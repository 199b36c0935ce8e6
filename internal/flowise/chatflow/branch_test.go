package chatflow_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

func branchEdge(ifElse, branch, target string) chatflow.Edge {
	return chatflow.Edge{Source: ifElse, SourceHandle: ifElse + "-output-" + branch + "-string|number|boolean|json|array",
		Target: target, TargetHandle: target + "-input-promptValues-json"}
}

// An If Else node with a chain on each branch: both chains are endings, each skipped when
// the other branch is taken; the shared model and the If Else node always run.
func TestCompileIfElseBranches(t *testing.T) {
	g := &chatflow.Graph{
		Nodes: []chatflow.Node{
			model("m", nil),
			mkNode("ifElse", "ifElseFunction", "Utilities", nil),
			prompt("pt"), prompt("pf"),
			chain("ct", nil), chain("cf", nil),
		},
		Edges: []chatflow.Edge{
			branchEdge("ifElse", chatflow.BranchTrue, "pt"),
			branchEdge("ifElse", chatflow.BranchFalse, "pf"),
			mkEdge("pt", "ct"), mkEdge("pf", "cf"), mkEdge("m", "ct"), mkEdge("m", "cf"),
		},
	}
	p, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	require.Equal(t, []string{"m", "ifElse", "pt", "pf", "ct", "cf"}, stepIDs(p))
	require.Equal(t, []string{"ct", "cf"}, p.Endings)
	require.Equal(t, "ct", p.Ending)
	skip := map[string][]chatflow.Decision{}
	for _, s := range p.Steps {
		skip[s.Node.ID] = s.SkipWhen
	}
	onTrue := []chatflow.Decision{{Node: "ifElse", Branch: chatflow.BranchFalse}}
	onFalse := []chatflow.Decision{{Node: "ifElse", Branch: chatflow.BranchTrue}}
	require.Equal(t, map[string][]chatflow.Decision{"m": nil, "ifElse": nil, "pt": onTrue, "ct": onTrue, "pf": onFalse, "cf": onFalse}, skip)

	// Overrides change inputs, never the branches or the endings.
	overridden, err := p.ApplyOverrides(chatflow.OverridePolicy{Status: true}, map[string]any{"temperature": 0.5})
	require.NoError(t, err)
	require.Equal(t, p.Endings, overridden.Endings)
	for i := range p.Steps {
		require.Equal(t, p.Steps[i].SkipWhen, overridden.Steps[i].SkipWhen)
	}

	took := map[string]string{"ifElse": chatflow.BranchTrue}
	require.False(t, p.Steps[4].Skipped(took))
	require.True(t, p.Steps[5].Skipped(took))
	require.True(t, p.IsEnding("cf"))

	// Two endings without an If Else to choose between them stay an error.
	g.Nodes[1] = mkNode("ifElse", "customFunction", "Utilities", nil)
	_, err = chatflow.Compile(g, allKnown)
	require.ErrorContains(t, err, "exactly one is required")
}

// A getVariable runs after the setVariable nodes of its name, which it needs, wired or not.
func TestCompileGetVariableAfterSetVariable(t *testing.T) {
	g := &chatflow.Graph{
		Nodes: []chatflow.Node{
			mkNode("get", "getVariable", "Utilities", map[string]any{"variableName": "x"}),
			model("m", nil),
			mkNode("set", "setVariable", "Utilities", map[string]any{"variableName": "x", "input": "hi"}),
			mkNode("other", "setVariable", "Utilities", map[string]any{"variableName": "y"}),
			prompt("p"), chain("c", nil),
		},
		Edges: []chatflow.Edge{mkEdge("get", "p"), mkEdge("p", "c"), mkEdge("m", "c")},
	}
	p, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	require.Equal(t, []string{"m", "set", "get", "p", "c"}, stepIDs(p), "the unrelated setVariable is no ancestor")
	require.Equal(t, []string{"set"}, p.Steps[2].Needs)
}
