package agentflow_test

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
)

func template(t *testing.T, name string) *agentflow.Graph {
	t.Helper()
	raw := fixture.Read(t, "flows", "marketplace", "agentflowsv2", name+".json")
	g, err := agentflow.Parse(string(raw))
	require.NoError(t, err, name)
	return g
}

// drive runs a scope to the end the way the workflow does, one ready node at a time, and
// returns the order nodes ran in. decide gives a decision node's branch.
func drive(t *testing.T, g *agentflow.Graph, scope string, decide func(id string, pass int) int) []string {
	t.Helper()
	s := g.NewSchedule(scope)
	var order []string
	passes := map[string]int{}
	next := s.Ready()
	for steps := 0; len(next) > 0; steps++ {
		require.Less(t, steps, 200, "the schedule never ends: %v", order)
		id := next[0]
		s.Start(id)
		for {
			order = append(order, id)
			n, _ := g.Node(id)
			passes[id]++
			if n.Kind == agentflow.KindLoop {
				if target, ok := s.LoopBack(id); ok {
					id = target
					continue
				}
			}
			if agentflow.IsDecision(n.Kind) {
				s.Done(id, decide(id, passes[id]))
			} else {
				s.Done(id)
			}
			break
		}
		next = s.Ready()
	}
	require.True(t, s.Finished())
	return order
}

func TestEveryTemplateParses(t *testing.T) {
	files := fixture.Glob(t, "flows", "marketplace", "agentflowsv2", "*.json")
	require.Len(t, files, 8)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		g, err := agentflow.Parse(string(raw))
		require.NoError(t, err, f)
		require.Equal(t, "startAgentflow_0", g.Start, f)
		for _, n := range g.Nodes {
			require.NotEqual(t, agentflow.KindStickyNote, n.Kind, "sticky notes are not steps")
		}
	}
}

func TestStraightFlowRunsInOrder(t *testing.T) {
	g := template(t, "Translator")
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0"}, drive(t, g, "", nil))
}

func TestConditionRunsOnlyTheChosenBranchAndLoopsAreBounded(t *testing.T) {
	g := template(t, "Supervisor Worker")
	// The supervisor picks worker 3 (the else branch): workers 1 and 2 and their loops are
	// skipped, and nothing loops back.
	order := drive(t, g, "", func(string, int) int { return 2 })
	require.Equal(t, []string{"startAgentflow_0", "llmAgentflow_0", "conditionAgentflow_0", "agentAgentflow_3"}, order)

	// The supervisor keeps picking worker 1: its loop jumps back to the supervisor until
	// maxLoopCount (5), then gives up.
	order = drive(t, g, "", func(string, int) int { return 0 })
	count := map[string]int{}
	for _, id := range order {
		count[id]++
	}
	require.Equal(t, map[string]int{
		"startAgentflow_0": 1, "llmAgentflow_0": 6, "conditionAgentflow_0": 6, "agentAgentflow_1": 6, "loopAgentflow_0": 6,
	}, count)
}

func TestHumanInputBranches(t *testing.T) {
	g := template(t, "Human In The Loop")
	proceed := drive(t, g, "", func(string, int) int { return 0 })
	require.Equal(t, []string{"startAgentflow_0", "agentAgentflow_0", "humanInputAgentflow_0", "llmAgentflow_0", "toolAgentflow_0"}, proceed)

	// Rejected once, then approved: the agent drafts again and the human is asked again.
	order := drive(t, g, "", func(_ string, pass int) int {
		if pass == 1 {
			return 1
		}
		return 0
	})
	require.Equal(t, []string{
		"startAgentflow_0", "agentAgentflow_0", "humanInputAgentflow_0", "loopAgentflow_0",
		"agentAgentflow_0", "humanInputAgentflow_0", "llmAgentflow_0", "toolAgentflow_0",
	}, order)
}

func TestIterationScopes(t *testing.T) {
	g := template(t, "Iterations")
	require.Equal(t, []string{"startAgentflow_0", "iterationAgentflow_0", "agentAgentflow_0"}, drive(t, g, "", nil))
	require.Equal(t, []string{"llmAgentflow_0", "llmAgentflow_1"}, drive(t, g, "iterationAgentflow_0", nil))
	var children []string
	for _, n := range g.Children("iterationAgentflow_0") {
		children = append(children, n.ID)
	}
	require.Equal(t, []string{"llmAgentflow_0", "llmAgentflow_1"}, children)
}

func TestMergeAfterExclusiveBranchesRunsOnce(t *testing.T) {
	g := parse(t, []node{
		{"startAgentflow_0", agentflow.KindStart, ""}, {"conditionAgentflow_0", agentflow.KindCondition, ""},
		{"llmAgentflow_0", agentflow.KindLLM, ""}, {"llmAgentflow_1", agentflow.KindLLM, ""},
		{"directReplyAgentflow_0", agentflow.KindDirectReply, ""},
	}, []edge{
		{"startAgentflow_0", "", "conditionAgentflow_0"},
		{"conditionAgentflow_0", "conditionAgentflow_0-output-0", "llmAgentflow_0"},
		{"conditionAgentflow_0", "conditionAgentflow_0-output-1", "llmAgentflow_1"},
		{"llmAgentflow_0", "", "directReplyAgentflow_0"},
		{"llmAgentflow_1", "", "directReplyAgentflow_0"},
	})
	require.Equal(t, []string{"startAgentflow_0", "conditionAgentflow_0", "llmAgentflow_1", "directReplyAgentflow_0"},
		drive(t, g, "", func(string, int) int { return 1 }))
}

func TestParseRejectsBrokenGraphs(t *testing.T) {
	start := node{"startAgentflow_0", agentflow.KindStart, ""}
	llm := node{"llmAgentflow_0", agentflow.KindLLM, ""}
	cases := map[string]struct {
		nodes []node
		edges []edge
		want  string
	}{
		"no start":   {[]node{llm}, nil, "no Start node"},
		"two starts": {[]node{start, {"startAgentflow_1", agentflow.KindStart, ""}}, nil, "two Start nodes"},
		"dangling":   {[]node{start}, []edge{{"startAgentflow_0", "", "gone_0"}}, "no such node"},
		"cycle": {[]node{start, llm, {"llmAgentflow_1", agentflow.KindLLM, ""}}, []edge{
			{"startAgentflow_0", "", "llmAgentflow_0"}, {"llmAgentflow_0", "", "llmAgentflow_1"}, {"llmAgentflow_1", "", "llmAgentflow_0"},
		}, "cycle"},
		"bad parent": {[]node{start, {"llmAgentflow_0", agentflow.KindLLM, "startAgentflow_0"}}, nil, "not an Iteration node"},
		"into start": {[]node{start, llm}, []edge{{"llmAgentflow_0", "", "startAgentflow_0"}}, "cannot have inputs"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := agentflow.Parse(flowJSON(t, tc.nodes, tc.edges))
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := agentflow.Parse("{")
	require.ErrorContains(t, err, "not valid JSON")
}

func TestLoopToMissingNodeIsRefused(t *testing.T) {
	raw := flowJSON(t, []node{{"startAgentflow_0", agentflow.KindStart, ""}, {"loopAgentflow_0", agentflow.KindLoop, ""}},
		[]edge{{"startAgentflow_0", "", "loopAgentflow_0"}})
	raw = replaceInputs(t, raw, "loopAgentflow_0", map[string]any{"loopBackToNode": "gone_0-Gone", "maxLoopCount": 2})
	_, err := agentflow.Parse(raw)
	require.ErrorContains(t, err, `jumps back to "gone_0-Gone"`)
}

type node struct{ id, kind, parent string }
type edge struct{ source, handle, target string }

func flowJSON(t *testing.T, nodes []node, edges []edge) string {
	t.Helper()
	var ns, es []map[string]any
	for _, n := range nodes {
		ns = append(ns, map[string]any{"id": n.id, "parentNode": n.parent, "data": map[string]any{"name": n.kind, "label": n.id, "inputs": map[string]any{}}})
	}
	for _, e := range edges {
		es = append(es, map[string]any{"source": e.source, "sourceHandle": e.handle, "target": e.target})
	}
	raw, err := json.Marshal(map[string]any{"nodes": ns, "edges": es})
	require.NoError(t, err)
	return string(raw)
}

func parse(t *testing.T, nodes []node, edges []edge) *agentflow.Graph {
	t.Helper()
	g, err := agentflow.Parse(flowJSON(t, nodes, edges))
	require.NoError(t, err)
	return g
}

func replaceInputs(t *testing.T, raw, id string, inputs map[string]any) string {
	t.Helper()
	var f map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &f))
	for _, n := range f["nodes"].([]any) {
		if n := n.(map[string]any); n["id"] == id {
			n["data"].(map[string]any)["inputs"] = inputs
		}
	}
	out, err := json.Marshal(f)
	require.NoError(t, err)
	return string(out)
}

// A flow is refused up front, naming the node, when it needs what this version lacks.

// Parsing is linear in nodes and edges, and the cycle check keeps its own stack: an anonymous
// caller can make the server parse any saved agentflow, however large.
func BenchmarkParseLargeAgentflow(b *testing.B) {
	type node struct {
		ID   string         `json:"id"`
		Data map[string]any `json:"data"`
	}
	type edge struct {
		Source string `json:"source"`
		Target string `json:"target"`
	}
	var flow struct {
		Nodes []node `json:"nodes"`
		Edges []edge `json:"edges"`
	}
	const n = 20000
	flow.Nodes = append(flow.Nodes, node{ID: "startAgentflow_0", Data: map[string]any{"name": agentflow.KindStart}})
	prev := "startAgentflow_0"
	for i := range n {
		id := "llmAgentflow_" + strconv.Itoa(i)
		flow.Nodes = append(flow.Nodes, node{ID: id, Data: map[string]any{"name": agentflow.KindLLM}})
		flow.Edges = append(flow.Edges, edge{Source: prev, Target: id})
		prev = id
	}
	raw, err := json.Marshal(flow)
	require.NoError(b, err)
	for b.Loop() {
		g, err := agentflow.Parse(string(raw))
		require.NoError(b, err)
		require.Len(b, g.Nodes, n+1)
	}
}
