package chatnodes

import (
	"context"
	"fmt"
	"maps"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// ConversationChain answers the question with the system prompt and the memory's history.
func (n *Nodes) ConversationChain(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	model, err := upstreamModel(req, "model")
	if err != nil {
		return node.Value{}, err
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	if refusal, refused, err := n.moderate(ctx, req, question); err != nil || refused {
		return node.TextValue(nd.Data.Name, refusal), err
	}
	system := nd.Input("systemMessagePrompt")
	human := "{input}"
	values := map[string]string{}
	if _, wired := chatflow.InstanceRef(nd.Data.Inputs["chatPromptTemplate"]); wired {
		p, err := upstreamPrompt(req, "chatPromptTemplate")
		if err != nil {
			return node.Value{}, err
		}
		if p, err = n.withVariables(ctx, req, p); err != nil {
			return node.Value{}, err
		}
		if p.Human != "" {
			system, human, values = p.System, p.Human, p.Values
		}
	}
	var msgs []llm.Message
	if system != "" {
		s, err := fill(system, values, question)
		if err != nil {
			return node.Value{}, nodekit.Classify(fmt.Errorf("%s: %w", nd.ID, err))
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: s})
	}
	mem := upstreamMemory(req)
	if mem != nil {
		for _, m := range mem.Messages {
			msgs = append(msgs, llm.Message{Role: nodekit.StoredRole(m.Role), Content: m.Content})
		}
	}
	withInput := map[string]string{"input": question}
	maps.Copy(withInput, values)
	h, err := fill(human, withInput, question)
	if err != nil {
		return node.Value{}, nodekit.Classify(fmt.Errorf("%s: %w", nd.ID, err))
	}
	msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: h})
	text, err := n.Chat(ctx, nodekit.Chat{NodeID: nd.ID, Model: model, Messages: msgs, StreamTo: streamTo(req)})
	if err != nil {
		return node.Value{}, err
	}
	if err := n.remember(ctx, mem, question, text); err != nil {
		return node.Value{}, err
	}
	return node.TextValue(nd.Data.Name, text), nil
}
