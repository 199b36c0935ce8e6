package chatnodes

import (
	"context"
	"fmt"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// LLMChain formats its prompt and asks its model. A chain that is not the ending node runs
// only when its output is "outputPrediction", i.e. its answer feeds another node; otherwise it
// just describes itself, as Flowise's initialisation does. A chain a chainTool runs answers
// the tool's input. Its input moderations check the question first; its output parser adds
// format instructions to the prompt and parses the answer (which then does not stream, as in
// Flowise).
func (n *Nodes) LLMChain(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	if !req.Ending && !req.AsTool && nd.Data.Outputs["output"] != "outputPrediction" {
		return node.Value{Kind: nd.Data.Name}, nil
	}
	model, err := upstreamModel(req, "model")
	if err != nil {
		return node.Value{}, err
	}
	prompt, err := upstreamPrompt(req, "prompt")
	if err != nil {
		return node.Value{}, err
	}
	if prompt, err = n.withVariables(ctx, req, prompt); err != nil {
		return node.Value{}, err
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	if refusal, refused, err := n.moderate(ctx, req, question); err != nil || refused {
		return node.TextValue(nd.Data.Name, refusal), err
	}
	parser, err := upstreamParser(req)
	if err != nil {
		return node.Value{}, err
	}
	msgs, err := messages(withInstructions(prompt, parser), question)
	if err != nil {
		return node.Value{}, nodekit.Classify(fmt.Errorf("%s: %w", nd.ID, err))
	}
	chat := nodekit.Chat{NodeID: nd.ID, Model: model, Messages: msgs, StreamTo: streamTo(req)}
	if parser != nil {
		chat.StreamTo = ""
	}
	text, err := n.Chat(ctx, chat)
	if err != nil {
		return node.Value{}, err
	}
	if parser != nil {
		return n.parsed(ctx, req, model, parser, text)
	}
	return node.TextValue(nd.Data.Name, text), nil
}
