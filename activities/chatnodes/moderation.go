package chatnodes

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// What the input moderation nodes share. A moderation node only hands on its settings
// (node.Moderation); the chain wired to it checks its input with each, in order, before
// anything else, as Flowise's chains do. A refused input is answered with the moderation's
// error message, streamed word by word when the run streams, and the model is never asked.

// upstreamList returns the values wired into a list input ("inputModeration": a list of
// "{{id.data.instance}}"; a single reference is accepted too), in the order written.
func upstreamList(req node.Request, input string) []node.Value {
	var out []node.Value
	for _, id := range chatflow.InstanceRefs(req.Node.Data.Inputs[input]) {
		if v, ok := req.Upstream[id]; ok {
			out = append(out, v)
		}
	}
	return out
}

// moderate checks input with the chain's moderations. refusal is the answer when one refuses
// it; it has then been streamed already when the run streams.
func (n *Nodes) moderate(ctx context.Context, req node.Request, input string) (refusal string, refused bool, err error) {
	for _, v := range upstreamList(req, "inputModeration") {
		m := v.Moderation
		if m == nil {
			return "", false, nodekit.FlowError("%s: input \"inputModeration\" must be connected to moderation nodes (got %s)", req.Node.ID, v.Kind)
		}
		flagged, err := n.violates(ctx, req.Node.ID, m, input)
		if err != nil {
			return "", false, err
		}
		if flagged {
			if topic := streamTo(req); topic != "" {
				// As Flowise: the message cut at whitespace, the whitespace kept.
				for _, tok := range wordsAndSpaces.FindAllString(m.ErrorMessage, -1) {
					n.PublishAnswer(ctx, topic, tok)
				}
			}
			return m.ErrorMessage, true, nil
		}
	}
	return "", false, nil
}

var wordsAndSpaces = regexp.MustCompile(`\s+|\S+`)

// violates asks one moderation about input.
func (n *Nodes) violates(ctx context.Context, nodeID string, m *node.Moderation, input string) (bool, error) {
	switch m.Kind {
	case "inputModerationOpenAI":
		secret, err := n.Secret(ctx, m.CredentialID)
		if err != nil {
			return false, err
		}
		flagged, err := llm.Moderate(ctx, cmp.Or(m.BaseURL, llm.DefaultOpenAIBase), secret["openAIApiKey"], input)
		if err != nil {
			return false, nodekit.Classify(fmt.Errorf("%s: %w", nodeID, err))
		}
		return flagged, nil
	default:
		// Simple Prompt Moderation: with a model, the model judges whether the input is like
		// any line of the deny list (and only the model, as in Flowise); without one, a line
		// contained in the input, ignoring case.
		for _, deny := range m.DenyList {
			if m.Model == nil {
				if strings.Contains(strings.ToLower(input), strings.ToLower(deny)) {
					return true, nil
				}
				continue
			}
			q := "Are these two sentences similar to each other? Only return Yes or No.\nFirst sentence: " + input + "\nSecond sentence: " + deny
			answer, err := n.Chat(ctx, nodekit.Chat{NodeID: nodeID, Model: m.Model, Messages: []llm.Message{{Role: llm.RoleUser, Content: q}}})
			if err != nil {
				return false, err
			}
			if strings.Contains(strings.ToLower(answer), "yes") {
				return true, nil
			}
		}
		return false, nil
	}
}
