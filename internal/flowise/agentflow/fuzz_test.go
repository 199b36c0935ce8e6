package agentflow_test

import (
	"encoding/json"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/testkit/fixture"
	wfnode "github.com/flowgate/flowgate/workflows/node"
)

// fuzzBound is how long one input may take. Parsing and checking are linear in the flow, so
// anything near it is a finding.
const fuzzBound = 5 * time.Second

// within runs f and fails the test when it has not returned after d. A panic in f fails the
// test with its stack, rather than ending the fuzzing process.
func within[T any](t *testing.T, d time.Duration, f func() T) T {
	t.Helper()
	type outcome struct {
		v     T
		panic any
		stack []byte
	}
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- outcome{panic: r, stack: debug.Stack()}
			}
		}()
		done <- outcome{v: f()}
	}()
	select {
	case o := <-done:
		if o.panic != nil {
			t.Fatalf("panic: %v\n%s", o.panic, o.stack)
		}
		return o.v
	case <-time.After(d):
		t.Fatalf("still running after %v", d)
		panic("unreachable")
	}
}

// FuzzParse checks what the API does with a stored agentflow before each run: Parse and
// node.CheckAgentflow. No flowData may make them panic or take long, every failure is a flow
// error or an UnsupportedError, neither the graph nor the error may outgrow the input by more
// than a constant factor, and a parsed graph is what Parse promises (one Start node, edges
// between its nodes inside one scope, no cycle but through loops). Then each scope of the
// graph is driven as the workflow drives it, which must not panic or start a node twice at
// once. Run it with
//
//	go test ./internal/flowise/agentflow/ -run='^$' -fuzz='^FuzzParse$' -fuzztime=30s -fuzzminimizetime=2s
func FuzzParse(f *testing.F) {
	for _, file := range fixture.Glob(f, "flows", "marketplace", "agentflowsv2", "*.json") {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(string(b))
		// The same flow without the editor's layout and the inputs nothing here reads: small
		// inputs mutate and minimize much faster than 60 KB exports.
		g, err := agentflow.Parse(string(b))
		require.NoError(f, err)
		f.Add(compactFlow(f, g))
	}
	for _, s := range []string{
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}}],"edges":[]}`,
		// A loop back to a node, an iteration with children, a sticky note with an edge.
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}},{"id":"a","data":{"name":"llmAgentflow"}},` +
			`{"id":"l","data":{"name":"loopAgentflow","inputs":{"loopBackToNode":"a-A","maxLoopCount":"2"}}},` +
			`{"id":"i","data":{"name":"iterationAgentflow"}},{"id":"c","parentNode":"i","data":{"name":"llmAgentflow"}},` +
			`{"id":"d","parentNode":"i","data":{"name":"agentAgentflow","inputs":{"agentModel":"x","agentTools":[{"agentSelectedTool":"y"},{"agentSelectedTool":"calculator"}]}}},` +
			`{"id":"n","data":{"name":"stickyNoteAgentflow"}}],` +
			`"edges":[{"source":"s","target":"a"},{"source":"a","target":"l"},{"source":"s","target":"i"},{"source":"c","target":"d"},{"source":"n","target":"a"}]}`,
		// Decisions whose branches meet again.
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}},{"id":"c","data":{"name":"conditionAgentflow"}},{"id":"a"},{"id":"b"},{"id":"m"}],` +
			`"edges":[{"source":"s","target":"c"},{"source":"c","sourceHandle":"c-output-0","target":"a"},{"source":"c","sourceHandle":"c-output-1","target":"b"},` +
			`{"source":"a","target":"m"},{"source":"b","target":"m"},{"source":"c","sourceHandle":"c-output-x","target":"m"}]}`,
		// Refused: a cycle, two starts, a loop out of its iteration, an edge across one.
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}},{"id":"a"},{"id":"b"}],"edges":[{"source":"s","target":"a"},{"source":"a","target":"b"},{"source":"b","target":"a"}]}`,
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}},{"id":"t","data":{"name":"startAgentflow"}}]}`,
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}},{"id":"i","data":{"name":"iterationAgentflow"}},{"id":"l","parentNode":"i","data":{"name":"loopAgentflow","inputs":{"loopBackToNode":"s"}}}]}`,
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}},{"id":"i","data":{"name":"iterationAgentflow"}},{"id":"c","parentNode":"i"}],"edges":[{"source":"s","target":"c"}]}`,
		`{"nodes":[{"id":"s","data":{"name":"startAgentflow"}},{"id":"s","data":{"name":"stickyNoteAgentflow"}}]}`,
		`{"nodes":null,"edges":[{}]}`,
		`[]`,
		`not json`,
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, flowData string) {
		type result struct {
			g     *agentflow.Graph
			err   error
			check error
		}
		res := within(t, fuzzBound, func() result {
			g, err := agentflow.Parse(flowData)
			if err != nil {
				return result{err: err}
			}
			return result{g: g, check: wfnode.CheckAgentflow(g)}
		})
		if res.err != nil {
			require.True(t, chatflow.IsFlowError(res.err), "Parse error %v is not a flow error", res.err)
			require.Nil(t, res.g)
			return
		}
		checkGraph(t, res.g)

		// The graph holds nothing the input did not: at most each string (a credential is
		// kept twice) escaped by encoding/json to six times its length, plus the fields every
		// node and edge gets even when the input left them out.
		out, err := json.Marshal(res.g)
		require.NoError(t, err)
		require.LessOrEqual(t, len(out), 12*len(flowData)+64, "the graph outgrows its flowData")
		if res.check != nil {
			var problems wfnode.UnsupportedError
			require.ErrorAs(t, res.check, &problems)
			// Each node is named at most a few times (its kind, knowledge, built-in tools,
			// tools, model), each name quoted to at most four times its length, and the lists
			// of what is supported once.
			require.LessOrEqual(t, len(res.check.Error()), 24*len(flowData)+4096, "the check's error outgrows the flow")
		}

		// driveBounded takes a bounded number of steps; this catches a step that is slow.
		start := time.Now()
		driveBounded(t, res.g, "")
		for _, n := range res.g.Nodes {
			if n.Kind == agentflow.KindIteration {
				driveBounded(t, res.g, n.ID)
			}
		}
		require.Less(t, time.Since(start), fuzzBound)
	})
}

// checkGraph checks what Parse promises of a graph it accepts.
func checkGraph(t *testing.T, g *agentflow.Graph) {
	t.Helper()
	nodes := map[string]agentflow.Node{}
	for _, n := range g.Nodes {
		require.NotEmpty(t, n.ID)
		require.NotContains(t, nodes, n.ID, "node id used twice")
		require.NotEqual(t, agentflow.KindStickyNote, n.Kind)
		nodes[n.ID] = n
	}
	start, ok := nodes[g.Start]
	require.True(t, ok, "the Start node %q is no node", g.Start)
	require.Equal(t, agentflow.KindStart, start.Kind)
	require.Empty(t, start.Parent)
	for _, n := range g.Nodes {
		if n.Kind == agentflow.KindStart && n.Parent == "" {
			require.Equal(t, g.Start, n.ID, "a second Start node")
		}
		if n.Parent != "" {
			require.Equal(t, agentflow.KindIteration, nodes[n.Parent].Kind)
		}
		if n.Kind == agentflow.KindLoop {
			target, err := g.LoopTarget(n)
			require.NoError(t, err)
			require.Equal(t, n.Parent, nodes[target].Parent)
			require.Positive(t, agentflow.MaxLoopCount(n))
		}
	}
	// No cycle: Kahn's algorithm removes every node.
	indegree := map[string]int{}
	for _, e := range g.Edges {
		s, sok := nodes[e.Source]
		d, dok := nodes[e.Target]
		require.True(t, sok && dok, "edge %s → %s between unknown nodes", e.Source, e.Target)
		require.Equal(t, s.Parent, d.Parent, "edge across an iteration's boundary")
		require.NotEqual(t, g.Start, e.Target)
		indegree[e.Target]++
	}
	var free []string
	for _, n := range g.Nodes {
		if indegree[n.ID] == 0 {
			free = append(free, n.ID)
		}
	}
	removed := 0
	for len(free) > 0 {
		id := free[len(free)-1]
		free = free[:len(free)-1]
		removed++
		for _, e := range g.Edges {
			if e.Source == id {
				if indegree[e.Target]--; indegree[e.Target] == 0 {
					free = append(free, e.Target)
				}
			}
		}
	}
	require.Equal(t, len(g.Nodes), removed, "the graph has a cycle")
}

// driveBounded runs one scope of g as the workflow does, for a bounded number of steps (a
// maxLoopCount can be huge), taking branch 0 of a decision on its odd passes and branch 1 on
// its even ones.
func driveBounded(t *testing.T, g *agentflow.Graph, scope string) {
	t.Helper()
	s := g.NewSchedule(scope)
	passes := map[string]int{}
	for steps := 0; steps < 4*len(g.Nodes)+16; steps++ {
		ready := s.Ready()
		if len(ready) == 0 {
			break
		}
		for _, id := range ready {
			require.Equal(t, agentflow.Pending, s.Status(id), "%s is ready but not pending", id)
			n, ok := g.Node(id)
			require.True(t, ok)
			require.Equal(t, scope, n.Parent, "%s is ready outside its scope", id)
		}
		id := ready[0]
		s.Start(id)
		n, _ := g.Node(id)
		if n.Kind == agentflow.KindLoop {
			if target, ok := s.LoopBack(id); ok {
				require.Equal(t, agentflow.Running, s.Status(target))
				s.Done(target)
				continue
			}
		}
		passes[id]++
		if agentflow.IsDecision(n.Kind) {
			s.Done(id, 1-passes[id]%2)
		} else {
			s.Done(id)
		}
	}
	_ = s.Finished()
}

// compactFlow writes g back as flowData with only the inputs Parse and the checks read.
func compactFlow(t testing.TB, g *agentflow.Graph) string {
	t.Helper()
	type rawNode struct {
		ID         string `json:"id"`
		ParentNode string `json:"parentNode,omitempty"`
		Data       struct {
			Name   string         `json:"name"`
			Inputs map[string]any `json:"inputs,omitempty"`
		} `json:"data"`
	}
	type rawEdge struct {
		Source       string `json:"source"`
		SourceHandle string `json:"sourceHandle,omitempty"`
		Target       string `json:"target"`
	}
	var flow struct {
		Nodes []rawNode `json:"nodes"`
		Edges []rawEdge `json:"edges"`
	}
	for _, n := range g.Nodes {
		rn := rawNode{ID: n.ID, ParentNode: n.Parent}
		rn.Data.Name = n.Kind
		for k, v := range n.Inputs {
			if strings.HasPrefix(k, "loop") || k == "maxLoopCount" || k == "agentModel" || k == "agentTools" || k == "toolAgentflowSelectedTool" {
				if rn.Data.Inputs == nil {
					rn.Data.Inputs = map[string]any{}
				}
				rn.Data.Inputs[k] = v
			}
		}
		flow.Nodes = append(flow.Nodes, rn)
	}
	for _, e := range g.Edges {
		re := rawEdge{Source: e.Source, Target: e.Target}
		if e.Branch >= 0 {
			re.SourceHandle = e.Source + "-output-" + strconv.Itoa(e.Branch)
		}
		flow.Edges = append(flow.Edges, re)
	}
	b, err := json.Marshal(flow)
	require.NoError(t, err)
	return string(b)
}
