package chatflow_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// overridePlan is a fresh plan with two prompt templates under the same label (Flowise matches
// overrides by label), one holding promptValues as exported (a JSON string) and one holding
// them decoded.
func overridePlan(t *testing.T) *chatflow.Plan {
	t.Helper()
	m := model("chatOpenAI_0", map[string]any{"modelName": "gpt-4o-mini", "temperature": 0.9, "streaming": true})
	m.Data.Label = "ChatOpenAI"
	p0 := prompt("promptTemplate_0")
	p0.Data.Label = "Prompt Template"
	p0.Data.Inputs = map[string]any{
		"template":     "Tell me about {objective}",
		"promptValues": `{"objective":"{{question}}","tone":"friendly"}`,
	}
	p1 := prompt("promptTemplate_1")
	p1.Data.Label = "Prompt Template"
	p1.Data.Inputs = map[string]any{
		"template":     "Summarise {result} for {objective}",
		"promptValues": map[string]any{"objective": "{{question}}", "result": "{{llmChain_0.data.instance}}"},
	}
	c0 := chain("llmChain_0", nil)
	c0.Data.Label = "LLM Chain"
	c1 := chain("llmChain_1", nil)
	c1.Data.Label = "LLM Chain"
	g := &chatflow.Graph{
		Nodes: []chatflow.Node{m, p0, c0, p1, c1},
		Edges: []chatflow.Edge{
			mkEdge("chatOpenAI_0", "llmChain_0"), mkEdge("promptTemplate_0", "llmChain_0"),
			mkEdge("llmChain_0", "promptTemplate_1"),
			mkEdge("chatOpenAI_0", "llmChain_1"), mkEdge("promptTemplate_1", "llmChain_1"),
		},
	}
	p, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	return p
}

// apply applies overrides that must be accepted.
func apply(t *testing.T, p *chatflow.Plan, policy chatflow.OverridePolicy, override map[string]any) *chatflow.Plan {
	t.Helper()
	got, err := p.ApplyOverrides(policy, override)
	require.NoError(t, err)
	return got
}

func inputsOf(p *chatflow.Plan, id string) map[string]any {
	for _, s := range p.Steps {
		if s.Node.ID == id {
			return s.Node.Data.Inputs
		}
	}
	return nil
}

func TestApplyOverrides(t *testing.T) {
	enabled := chatflow.OverridePolicy{
		Status: true,
		Nodes: map[string][]chatflow.OverrideInput{
			"ChatOpenAI": {
				{Name: "modelName", Enabled: true},
				{Name: "temperature", Enabled: true},
				{Name: "streaming", Enabled: true},
				{Name: "basepath", Enabled: false},
				{Name: "sessionId", Enabled: true},
				{Name: "vars", Enabled: true},
			},
			"Prompt Template": {
				{Name: "template", Enabled: true},
				{Name: "promptValues", Enabled: true},
			},
		},
	}
	disabled := enabled
	disabled.Status = false
	byID := chatflow.OverridePolicy{Status: true, Nodes: map[string][]chatflow.OverrideInput{
		"chatOpenAI_0": {{Name: "modelName", Enabled: true}},
	}}

	tests := []struct {
		name     string
		policy   chatflow.OverridePolicy
		override map[string]any
		// edit changes a fresh plan into the expected result; nil means unchanged.
		edit func(p *chatflow.Plan)
	}{
		{
			name:     "overrides disabled",
			policy:   disabled,
			override: map[string]any{"modelName": "gpt-4o", "template": "x"},
		},
		{
			name:     "empty policy",
			policy:   chatflow.OverridePolicy{},
			override: map[string]any{"modelName": "gpt-4o"},
		},
		{
			name:     "enabled input replaced by label",
			policy:   enabled,
			override: map[string]any{"modelName": "gpt-4o"},
			edit:     func(p *chatflow.Plan) { inputsOf(p, "chatOpenAI_0")["modelName"] = "gpt-4o" },
		},
		{
			name:     "policy keyed by node id instead of label matches nothing",
			policy:   byID,
			override: map[string]any{"modelName": "gpt-4o"},
		},
		{
			name:     "input turned off in the policy",
			policy:   enabled,
			override: map[string]any{"basepath": "http://evil.example/v1"},
		},
		{
			name:     "input not in the policy",
			policy:   enabled,
			override: map[string]any{"maxTokens": 5, "credential": "other"},
		},
		{
			name:     "number replaces",
			policy:   enabled,
			override: map[string]any{"temperature": 0.1},
			edit:     func(p *chatflow.Plan) { inputsOf(p, "chatOpenAI_0")["temperature"] = 0.1 },
		},
		{
			name:     "string false becomes a boolean",
			policy:   enabled,
			override: map[string]any{"streaming": "false"},
			edit:     func(p *chatflow.Plan) { inputsOf(p, "chatOpenAI_0")["streaming"] = false },
		},
		{
			name:     "string true becomes a boolean",
			policy:   enabled,
			override: map[string]any{"streaming": "true"},
			edit:     func(p *chatflow.Plan) { inputsOf(p, "chatOpenAI_0")["streaming"] = true },
		},
		{
			name:     "null leaves the input alone",
			policy:   enabled,
			override: map[string]any{"modelName": nil},
		},
		{
			name:     "scalar applies to every node with the label",
			policy:   enabled,
			override: map[string]any{"template": "Just {objective}"},
			edit: func(p *chatflow.Plan) {
				inputsOf(p, "promptTemplate_0")["template"] = "Just {objective}"
				inputsOf(p, "promptTemplate_1")["template"] = "Just {objective}"
			},
		},
		{
			name:     "object keyed by node id targets only that node",
			policy:   enabled,
			override: map[string]any{"template": map[string]any{"promptTemplate_1": "Only {objective}"}},
			edit:     func(p *chatflow.Plan) { inputsOf(p, "promptTemplate_1")["template"] = "Only {objective}" },
		},
		{
			name:   "object keyed by node id leaves other nodes' object inputs alone",
			policy: enabled,
			override: map[string]any{"promptValues": map[string]any{
				"promptTemplate_0": map[string]any{"objective": "cats"},
			}},
			edit: func(p *chatflow.Plan) {
				inputsOf(p, "promptTemplate_0")["promptValues"] = map[string]any{"objective": "cats"}
			},
		},
		{
			name:     "object merges over an object input, exported as a JSON string or decoded",
			policy:   enabled,
			override: map[string]any{"promptValues": map[string]any{"objective": "dogs", "extra": "x"}},
			edit: func(p *chatflow.Plan) {
				inputsOf(p, "promptTemplate_0")["promptValues"] = map[string]any{"objective": "dogs", "tone": "friendly", "extra": "x"}
				inputsOf(p, "promptTemplate_1")["promptValues"] = map[string]any{
					"objective": "dogs", "extra": "x", "result": "{{llmChain_0.data.instance}}",
				}
			},
		},
		{
			name:     "object replaces a non-object input",
			policy:   enabled,
			override: map[string]any{"template": map[string]any{"a": "b"}},
			edit: func(p *chatflow.Plan) {
				inputsOf(p, "promptTemplate_0")["template"] = map[string]any{"a": "b"}
				inputsOf(p, "promptTemplate_1")["template"] = map[string]any{"a": "b"}
			},
		},
		{
			name:   "sessionId and vars never become inputs",
			policy: enabled,
			override: map[string]any{
				"sessionId": "s-1",
				"vars":      map[string]any{"name": "x"},
			},
		},
		{
			name:   "several overrides at once",
			policy: enabled,
			override: map[string]any{
				"modelName": "gpt-4o", "streaming": "false", "sessionId": "s-1", "basepath": "x",
			},
			edit: func(p *chatflow.Plan) {
				in := inputsOf(p, "chatOpenAI_0")
				in["modelName"] = "gpt-4o"
				in["streaming"] = false
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := overridePlan(t)
			got := apply(t, orig, tc.policy, tc.override)

			want := overridePlan(t)
			if tc.edit != nil {
				tc.edit(want)
			}
			require.Equal(t, want, got)
			require.Equal(t, overridePlan(t), orig, "the original plan must not change")
		})
	}
}

func TestApplyOverridesKeepsPlanImmutable(t *testing.T) {
	policy := chatflow.OverridePolicy{Status: true, Nodes: map[string][]chatflow.OverrideInput{
		"Prompt Template": {{Name: "promptValues", Enabled: true}},
		"ChatOpenAI":      {{Name: "modelName", Enabled: true}},
	}}
	orig := overridePlan(t)
	got := apply(t, orig, policy, map[string]any{
		"modelName":    "gpt-4o",
		"promptValues": map[string]any{"objective": "x"},
	})
	require.Equal(t, overridePlan(t), orig)
	require.Equal(t, orig.Ending, got.Ending)
	require.Len(t, got.Steps, len(orig.Steps))

	// Writing into the result's maps, merged ones included, does not reach the original.
	inputsOf(got, "chatOpenAI_0")["modelName"] = "changed"
	inputsOf(got, "promptTemplate_1")["promptValues"].(map[string]any)["objective"] = "changed"
	require.Equal(t, overridePlan(t), orig)

	// A cached plan is reused for every request: overrides of one request never leak into the
	// next.
	next := apply(t, orig, policy, map[string]any{"modelName": "gpt-4.1"})
	require.Equal(t, "gpt-4.1", inputsOf(next, "chatOpenAI_0")["modelName"])
	require.Equal(t, `{"objective":"{{question}}","tone":"friendly"}`, inputsOf(next, "promptTemplate_0")["promptValues"])
}

func TestApplyOverridesNilInputs(t *testing.T) {
	n := chatflow.Node{ID: "llmChain_0", Data: chatflow.NodeData{ID: "llmChain_0", Name: "llmChain", Label: "LLM Chain", Category: chatflow.CategoryChains}}
	p := &chatflow.Plan{Ending: "llmChain_0", Steps: []chatflow.Step{{Node: n}}}
	got := apply(t, p, chatflow.OverridePolicy{Status: true, Nodes: map[string][]chatflow.OverrideInput{
		"LLM Chain": {{Name: "chainName", Enabled: true}},
	}}, map[string]any{"chainName": "mine"})
	require.Equal(t, map[string]any{"chainName": "mine"}, got.Steps[0].Node.Data.Inputs)
	require.Nil(t, p.Steps[0].Node.Data.Inputs)
}

func TestAllowedVars(t *testing.T) {
	policy := chatflow.OverridePolicy{Status: true, Variables: []chatflow.OverrideInput{
		{Name: "name", Enabled: true},
		{Name: "count", Enabled: true},
		{Name: "flag", Enabled: true},
		{Name: "secret", Enabled: false},
	}}
	vars := map[string]any{"name": "Ada", "count": 3.0, "flag": true, "secret": "s3cr3t", "unlisted": "x"}
	off := policy
	off.Status = false

	tests := []struct {
		name   string
		policy chatflow.OverridePolicy
		vars   map[string]any
		want   map[string]string
	}{
		{"enabled variables only, stringified", policy, vars, map[string]string{"name": "Ada", "count": "3", "flag": "true"}},
		{"overrides disabled", off, vars, map[string]string{}},
		{"no vars sent", policy, nil, map[string]string{}},
		{"enabled but not sent", policy, map[string]any{"name": "Ada"}, map[string]string{"name": "Ada"}},
		{"empty policy", chatflow.OverridePolicy{Status: true}, vars, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.policy.AllowedVars(tc.vars))
		})
	}
}

func TestParseAPIConfig(t *testing.T) {
	c, err := chatflow.ParseAPIConfig("")
	require.NoError(t, err)
	require.False(t, c.OverrideConfig.Status)

	c, err = chatflow.ParseAPIConfig(`{"rateLimit":{"limitMax":5},"overrideConfig":{"status":true,
		"nodes":{"ChatOpenAI":[{"name":"modelName","enabled":true}]},
		"variables":[{"name":"lang","enabled":true}]}}`)
	require.NoError(t, err)
	require.True(t, c.OverrideConfig.Status)
	require.Equal(t, []chatflow.OverrideInput{{Name: "modelName", Enabled: true}}, c.OverrideConfig.Nodes["ChatOpenAI"])
	require.Equal(t, map[string]string{"lang": "go"}, c.OverrideConfig.AllowedVars(map[string]any{"lang": "go"}))
	require.JSONEq(t, `{"limitMax":5}`, string(c.RateLimit))

	_, err = chatflow.ParseAPIConfig("{oops")
	require.Error(t, err)
	require.True(t, chatflow.IsFlowError(err))
	require.Contains(t, err.Error(), "apiConfig is not valid JSON")
}

// A promptValues key that merely looks like a node id ("item_2") is a value to merge, not a
// target: only ids of nodes in the flow select a node.
func TestApplyOverridesKeysThatLookLikeNodeIDs(t *testing.T) {
	policy := chatflow.OverridePolicy{Status: true, Nodes: map[string][]chatflow.OverrideInput{
		"Prompt Template": {{Name: "promptValues", Enabled: true}},
	}}
	got := apply(t, overridePlan(t), policy, map[string]any{"promptValues": map[string]any{"item_2": "x"}})
	require.Equal(t, "x", inputsOf(got, "promptTemplate_0")["promptValues"].(map[string]any)["item_2"])
}

// TestApplyOverridesChecksDeclaredTypes: a value a number or boolean input cannot take is
// refused with a message naming the input, the node and the type, and nothing else is checked:
// numbers may come as text, and inputs without a declared type take anything. The flow is read
// from its export, whose inputParams declare the types.
func TestApplyOverridesChecksDeclaredTypes(t *testing.T) {
	g, err := chatflow.Parse(readFlow(t, "llm-chain.json"))
	require.NoError(t, err)
	plan, err := chatflow.Compile(g, allKnown)
	require.NoError(t, err)
	policy := chatflow.OverridePolicy{Status: true, Nodes: map[string][]chatflow.OverrideInput{
		"OpenAI": {{Name: "temperature", Enabled: true}, {Name: "streaming", Enabled: true}, {Name: "modelName", Enabled: true}},
	}}
	for _, ok := range []map[string]any{
		{"temperature": 0.2}, {"temperature": "0.7"}, {"temperature": ""}, {"temperature": map[string]any{"chatOpenAI_0": 1.0}},
		{"streaming": "false"}, {"streaming": true}, {"modelName": 4}, {"temperature": nil},
	} {
		_, err := plan.ApplyOverrides(policy, ok)
		require.NoError(t, err, "%v", ok)
	}
	for override, want := range map[string]string{
		`{"temperature":"hot"}`:                  `overrideConfig.temperature must be a number for node chatOpenAI_0 (OpenAI), got "hot"`,
		`{"temperature":{"chatOpenAI_0":"hot"}}`: `overrideConfig.temperature must be a number for node chatOpenAI_0 (OpenAI), got "hot"`,
		`{"temperature":[1]}`:                    `overrideConfig.temperature must be a number for node chatOpenAI_0 (OpenAI), got [1]`,
		`{"streaming":"maybe"}`:                  `overrideConfig.streaming must be a boolean for node chatOpenAI_0 (OpenAI), got "maybe"`,
	} {
		var o map[string]any
		require.NoError(t, json.Unmarshal([]byte(override), &o))
		_, err := plan.ApplyOverrides(policy, o)
		var bad *chatflow.OverrideError
		require.ErrorAs(t, err, &bad, override)
		require.Equal(t, want, err.Error())
	}
	// Without inputParams, the value drawn tells the type.
	drawn := overridePlan(t) // temperature 0.9, streaming true, no inputParams
	policy = chatflow.OverridePolicy{Status: true, Nodes: map[string][]chatflow.OverrideInput{
		"ChatOpenAI":      {{Name: "temperature", Enabled: true}, {Name: "streaming", Enabled: true}},
		"Prompt Template": {{Name: "template", Enabled: true}},
	}}
	_, err = drawn.ApplyOverrides(policy, map[string]any{"temperature": "0.1", "streaming": "false", "template": 3})
	require.NoError(t, err)
	_, err = drawn.ApplyOverrides(policy, map[string]any{"temperature": "hot"})
	require.EqualError(t, err, `overrideConfig.temperature must be a number for node chatOpenAI_0 (ChatOpenAI), got "hot"`)
	_, err = drawn.ApplyOverrides(policy, map[string]any{"streaming": 1})
	require.EqualError(t, err, `overrideConfig.streaming must be a boolean for node chatOpenAI_0 (ChatOpenAI), got 1`)

	// Disabled inputs are not applied, so not checked either.
	_, err = plan.ApplyOverrides(chatflow.OverridePolicy{Status: true}, map[string]any{"temperature": "hot"})
	require.NoError(t, err)
}
