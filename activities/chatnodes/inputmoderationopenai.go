package chatnodes

import (
	"cmp"
	"context"

	"github.com/flowgate/flowgate/workflows/node"
)

// InputModerationOpenAI hands on the credential (openAIApi) the chain calls OpenAI's
// moderation endpoint with. Flowise always calls api.openai.com; Flowgate also reads a
// "basepath" input, for OpenAI-compatible gateways and tests.
func (n *Nodes) InputModerationOpenAI(_ context.Context, req node.Request) (node.Value, error) {
	m := &node.Moderation{Kind: req.Node.Data.Name, CredentialID: credentialID(req.Node), BaseURL: req.Node.Input("basepath"),
		ErrorMessage: cmp.Or(req.Node.Input("moderationErrorMessage"), "Text was found that violates OpenAI's content policy.")}
	return node.Value{Kind: m.Kind, Moderation: m}, nil
}
