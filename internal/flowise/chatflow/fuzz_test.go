package chatflow_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/flowgate/flowgate/internal/testkit/fixture"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// FuzzCompile checks that no flowData makes Parse or Compile panic, that every failure is a flow
// error, and that a compiled plan runs each node after the nodes it needs and ends with the
// ending node. Run it with
//
//	go test ./internal/flowise/chatflow/ -run='^$' -fuzz=FuzzCompile -fuzztime=20s -fuzzminimizetime=100x
//
// (the default minimisation budget of 60s per new input spends most of a short run shrinking
// the 30 KB seed exports).
func FuzzCompile(f *testing.F) {
	files := append(fixture.Glob(f, "flows", "*.json"), fixture.Glob(f, "flows", "marketplace", "chatflows", "*.json")...)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
		// The same graph without the editor's layout and parameter schemas: small inputs
		// mutate and minimize much faster than 30 KB exports.
		if g, err := chatflow.Parse(string(b)); err == nil {
			compact, err := json.Marshal(g)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(compact))
		}
	}
	for _, s := range []string{
		`{"nodes":[],"edges":[]}`,
		`{"nodes":[{"id":"a","data":{"name":"llmChain","category":"Chains"}},{"id":"b","data":{"name":"chatOpenAI"}}],"edges":[{"source":"b","target":"a"}]}`,
		`{"nodes":[{"id":"a","data":{"category":"Chains"}},{"id":"b"}],"edges":[{"source":"a","target":"b"},{"source":"b","target":"a"}]}`,
		`{"nodes":[{"id":"a"},{"id":"a"}],"edges":[]}`,
		`{"nodes":[{"id":"c","data":{"category":"Agents","outputs":{"output":1}}},{"id":"b"},{"id":"a"}],"edges":[{"source":"a","target":"b"},{"source":"b","target":"c"},{"source":"a","target":"c"}]}`,
		`{"nodes":[{"id":"i","data":{"name":"ifElseFunction"}},{"id":"a","data":{"name":"llmChain","category":"Chains"}},{"id":"b","data":{"name":"llmChain","category":"Chains"}}],"edges":[{"source":"i","sourceHandle":"i-output-returnTrue-string","target":"a"},{"source":"i","sourceHandle":"i-output-returnFalse-string","target":"b"}]}`,
		`{"nodes":[{"id":"g","data":{"name":"getVariable","inputs":{"variableName":"x"}}},{"id":"s","data":{"name":"setVariable","inputs":{"variableName":"x"}}},{"id":"a","data":{"name":"llmChain","category":"Chains"}}],"edges":[{"source":"g","target":"a"}]}`,
		`not json`,
	} {
		f.Add(s)
	}

	known := func(kind string) bool { return kind != "unsupported" }
	f.Fuzz(func(t *testing.T, flowData string) {
		g, err := chatflow.Parse(flowData)
		if err != nil {
			if !chatflow.IsFlowError(err) {
				t.Fatalf("Parse error %v is not a flow error", err)
			}
			return
		}
		// A vector upsert plans the same graph from its vector store: the same rules apply to
		// what it returns, and it may not panic either.
		if up, err := chatflow.UpsertPlan(g, known, ""); err != nil {
			if !chatflow.IsFlowError(err) || up != nil {
				t.Fatalf("UpsertPlan error %v is not a flow error, or came with a plan", err)
			}
		} else if len(up.Steps) == 0 || up.Steps[len(up.Steps)-1].Node.ID != up.Ending {
			t.Fatalf("upsert plan does not end at its vector store %q", up.Ending)
		}
		p, err := chatflow.Compile(g, known)
		if err != nil {
			if !chatflow.IsFlowError(err) {
				t.Fatalf("Compile error %v is not a flow error", err)
			}
			if p != nil {
				t.Fatalf("Compile returned a plan with error %v", err)
			}
			return
		}
		if len(p.Steps) < 2 {
			t.Fatalf("plan has %d steps; the ending node always has a source", len(p.Steps))
		}
		last, lastEnding := p.Steps[len(p.Steps)-1].Node, p.Ending
		if len(p.Endings) > 0 {
			// One ending per branch of an If Else node: the first is Ending, the last is last.
			if p.Endings[0] != p.Ending || len(p.Endings) < 2 {
				t.Fatalf("endings %v do not start with the ending node %q", p.Endings, p.Ending)
			}
			lastEnding = p.Endings[len(p.Endings)-1]
		}
		if last.ID != lastEnding {
			t.Fatalf("ending node %q is not last (last is %q)", lastEnding, last.ID)
		}
		if p.EndingNode().ID != p.Ending {
			t.Fatalf("EndingNode() = %q, want %q", p.EndingNode().ID, p.Ending)
		}
		pos := map[string]int{}
		for i, s := range p.Steps {
			if _, dup := pos[s.Node.ID]; dup {
				t.Fatalf("node %q planned twice", s.Node.ID)
			}
			if !known(s.Node.Data.Name) {
				t.Fatalf("node %q of unknown kind %q planned", s.Node.ID, s.Node.Data.Name)
			}
			seen := map[string]bool{}
			for _, need := range s.Needs {
				if seen[need] {
					t.Fatalf("step %s needs %q twice", s, need)
				}
				seen[need] = true
				j, ok := pos[need]
				if !ok || j >= i {
					t.Fatalf("step %s (position %d) needs %q, which is not earlier in the plan", s, i, need)
				}
			}
			pos[s.Node.ID] = i
		}
		// The other entry points must not panic on a compiled plan either.
		_ = p.CanStream()
		_, _ = p.MemoryNode()
		policy := chatflow.OverridePolicy{Status: true, Nodes: map[string][]chatflow.OverrideInput{}}
		for _, s := range p.Steps {
			policy.Nodes[s.Node.Data.Label] = []chatflow.OverrideInput{{Name: "promptValues", Enabled: true}}
		}
		_, _ = p.ApplyOverrides(policy, map[string]any{"promptValues": map[string]any{"x": "y"}})
	})
}
