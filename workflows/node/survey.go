package node

import (
	"errors"
	"strings"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// Surveyed is one node of a flow and whether this version runs it.
type Surveyed struct {
	NodeID string `json:"nodeId"`
	Kind   string `json:"kind"`
	Label  string `json:"label,omitempty"`
	Runs   bool   `json:"runs"`
	// Reason says why the node does not run; empty when it runs.
	Reason string `json:"reason,omitempty"`
}

// Survey is what this version makes of a flow, node by node, before anyone runs it: what
// `flowgate check` prints and what saving a flow reports.
type Survey struct {
	Nodes []Surveyed `json:"nodes"`
}

// Unsupported lists the nodes that do not run.
func (s Survey) Unsupported() []Surveyed {
	var out []Surveyed
	for _, n := range s.Nodes {
		if !n.Runs {
			out = append(out, n)
		}
	}
	return out
}

// UnsupportedKinds lists the distinct kinds of the nodes that do not run, in flow order.
func (s Survey) UnsupportedKinds() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range s.Unsupported() {
		if !seen[n.Kind] {
			seen[n.Kind] = true
			out = append(out, n.Kind)
		}
	}
	return out
}

// SurveyFlow reads flowData as an agentflow or a classic chatflow and says of every node
// whether this version runs it. It looks at each node on its own: unlike a prediction, it
// also reports nodes the flow's answer does not depend on, and it does not check how the
// nodes are wired.
func SurveyFlow(flowData string, isAgentflow bool) (Survey, error) {
	if isAgentflow {
		return surveyAgentflow(flowData)
	}
	g, err := chatflow.Parse(flowData)
	if err != nil {
		return Survey{}, err
	}
	s := Survey{Nodes: make([]Surveyed, 0, len(g.Nodes))}
	for _, n := range g.Nodes {
		if n.IsStickyNote() {
			continue
		}
		item := Surveyed{NodeID: n.ID, Kind: n.Data.Name, Label: n.Data.Label, Runs: InChatflow(n.Data.Name)}
		k, _ := Lookup(n.Data.Name)
		switch {
		case k.Refusal != "":
			item.Runs, item.Reason = false, k.Refusal
		case !item.Runs && k.Family == AgentStep:
			item.Reason = "an agentflow node cannot run in a chatflow"
		case !item.Runs:
			item.Reason = "this kind of node is not supported in chatflows"
		}
		s.Nodes = append(s.Nodes, item)
	}
	return s, nil
}

func surveyAgentflow(flowData string) (Survey, error) {
	g, err := agentflow.Parse(flowData)
	if err != nil {
		return Survey{}, err
	}
	// CheckAgentflow knows more than a node's kind (an Agent's tools and model); one node may
	// have several reasons, joined.
	reasons := map[string][]string{}
	var unsupported UnsupportedError
	if err := CheckAgentflow(g); errors.As(err, &unsupported) {
		for _, u := range unsupported {
			reasons[u.NodeID] = append(reasons[u.NodeID], u.Reason)
		}
	}
	// Tools an Agent offers that are known but refused (Kind.Refusal) run in no flow.
	for _, n := range g.Nodes {
		for _, tool := range agentflow.AgentTools(n) {
			if k, _ := Lookup(tool); k.Refusal != "" {
				reasons[n.ID] = append(reasons[n.ID], "tool "+tool+": "+k.Refusal)
			}
		}
	}
	s := Survey{Nodes: make([]Surveyed, 0, len(g.Nodes))}
	for _, n := range g.Nodes { // Parse leaves sticky notes out
		r := reasons[n.ID]
		s.Nodes = append(s.Nodes, Surveyed{NodeID: n.ID, Kind: n.Kind, Label: n.Label, Runs: len(r) == 0, Reason: strings.Join(r, "; ")})
	}
	return s, nil
}

// LooksLikeAgentflow tells an exported agentflow from a chatflow (an export does not record
// its type): every agentflow has a Start node, whose kind no chatflow node has.
func LooksLikeAgentflow(flowData string) bool {
	return strings.Contains(flowData, `"`+agentflow.KindStart+`"`)
}
