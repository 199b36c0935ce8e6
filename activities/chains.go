package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// llmChain formats its prompt and asks its model. A chain that is not the ending node runs only
// when its output is "outputPrediction", i.e. its answer feeds another node; otherwise it just
// describes itself, as Flowise's initialisation does.
func (a *Activities) llmChain(ctx context.Context, req node.Request) (node.Value, error) {
	n := req.Node
	if !req.Ending && n.Data.Outputs["output"] != "outputPrediction" {
		return node.Value{Kind: n.Data.Name}, nil
	}
	model, err := upstreamModel(req, "model")
	if err != nil {
		return node.Value{}, err
	}
	prompt, err := upstreamPrompt(req, "prompt")
	if err != nil {
		return node.Value{}, err
	}
	question, err := a.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	msgs, err := promptMessages(prompt, question)
	if err != nil {
		return node.Value{}, classify(fmt.Errorf("%s: %w", n.ID, err))
	}
	text, err := a.callModel(ctx, req, model, msgs)
	if err != nil {
		return node.Value{}, err
	}
	return node.TextValue(n.Data.Name, text), nil
}

// conversationChain answers the question with the system prompt and the memory's history.
func (a *Activities) conversationChain(ctx context.Context, req node.Request) (node.Value, error) {
	n := req.Node
	model, err := upstreamModel(req, "model")
	if err != nil {
		return node.Value{}, err
	}
	question, err := a.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	system := n.Input("systemMessagePrompt")
	human := "{input}"
	values := map[string]string{}
	if _, wired := chatflow.InstanceRef(n.Data.Inputs["chatPromptTemplate"]); wired {
		p, err := upstreamPrompt(req, "chatPromptTemplate")
		if err != nil {
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
			return node.Value{}, classify(fmt.Errorf("%s: %w", n.ID, err))
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: s})
	}
	if mem := upstreamMemory(req); mem != nil {
		for _, m := range mem.Messages {
			role := llm.RoleUser
			if m.Role == models.RoleAPI {
				role = llm.RoleAssistant
			}
			msgs = append(msgs, llm.Message{Role: role, Content: m.Content})
		}
	}
	withInput := map[string]string{"input": question}
	for k, v := range values {
		withInput[k] = v
	}
	h, err := fill(human, withInput, question)
	if err != nil {
		return node.Value{}, classify(fmt.Errorf("%s: %w", n.ID, err))
	}
	msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: h})
	text, err := a.callModel(ctx, req, model, msgs)
	if err != nil {
		return node.Value{}, err
	}
	return node.TextValue(n.Data.Name, text), nil
}

func promptMessages(p *node.Prompt, question string) ([]llm.Message, error) {
	if p.Template != "" {
		text, err := fill(p.Template, p.Values, question)
		if err != nil {
			return nil, err
		}
		return []llm.Message{{Role: llm.RoleUser, Content: text}}, nil
	}
	var msgs []llm.Message
	if p.System != "" {
		s, err := fill(p.System, p.Values, question)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: s})
	}
	h, err := fill(p.Human, p.Values, question)
	if err != nil {
		return nil, err
	}
	return append(msgs, llm.Message{Role: llm.RoleUser, Content: h}), nil
}

// callModel decrypts the model's credential, calls the provider and, for the ending node of a
// streaming request, publishes each token as it arrives. The returned text is exactly the
// concatenation of the published tokens.
func (a *Activities) callModel(ctx context.Context, req node.Request, m *node.Model, msgs []llm.Message) (string, error) {
	var cfg llm.Config
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		return "", flowError("%s: model settings are unreadable: %v", req.Node.ID, err)
	}
	secret, err := a.secret(ctx, m.CredentialID)
	if err != nil {
		return "", err
	}
	var onToken func(string)
	if req.Ending && req.Run.Stream && req.Run.Topic != "" && m.Streaming {
		topic, attempt := req.Run.Topic, int32(1)
		if activity.IsActivity(ctx) {
			attempt = activity.GetInfo(ctx).Attempt
		}
		broken := false
		onToken = func(tok string) {
			// A broker that fails is no reason to fail the node. Stop streaming this attempt
			// instead: the client keeps a clean prefix and the API sends the rest of the
			// answer once it is saved, and the model is not slowed by a publish per token
			// that each waits out its timeout.
			if broken {
				return
			}
			if err := a.Stream.Publish(ctx, topic, attempt, "token", tok); err != nil {
				broken = true
				if a.Logger != nil {
					a.Logger.Warn("streaming stopped for this attempt", "topic", topic, "error", err)
				}
			}
		}
	}
	stop := heartbeat(ctx)
	defer stop()
	resp, err := llm.Chat(ctx, cfg, secret, msgs, onToken)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", classify(err)
	}
	return resp.Text, nil
}

// callModelTools asks a model that may call tools; it does not stream.
func (a *Activities) callModelTools(ctx context.Context, nodeID string, m *node.Model, msgs []llm.Message, tools []llm.Tool) (llm.Response, error) {
	var cfg llm.Config
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		return llm.Response{}, flowError("%s: model settings are unreadable: %v", nodeID, err)
	}
	secret, err := a.secret(ctx, m.CredentialID)
	if err != nil {
		return llm.Response{}, err
	}
	stop := heartbeat(ctx)
	defer stop()
	resp, err := llm.ChatWithTools(ctx, cfg, secret, msgs, tools)
	if err != nil {
		if ctx.Err() != nil {
			return llm.Response{}, ctx.Err()
		}
		return llm.Response{}, classify(err)
	}
	return resp, nil
}

// secret decrypts a credential for the duration of one provider call.
func (a *Activities) secret(ctx context.Context, id string) (llm.Secret, error) {
	if id == "" {
		return llm.Secret{}, nil
	}
	row, err := a.Store.GetCredential(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, credentialError("credential %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	plain, err := a.Cipher.Decrypt(row.EncryptedData)
	if err != nil {
		if errors.Is(err, secrets.ErrDecrypt) {
			return nil, credentialError("credential %s (%s): %v", id, row.Name, err)
		}
		return nil, err
	}
	out := make(llm.Secret, len(plain))
	for k, v := range plain {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, nil
}

func credentialError(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), node.ErrCredential, nil)
}

// heartbeat keeps a long provider call visibly alive, so an abort (workflow cancellation)
// reaches it and a crashed worker's attempt is retried after the heartbeat timeout rather than
// the whole start-to-close timeout.
func heartbeat(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// upstream helpers find the value wired into a named input ("{{id.data.instance}}").

func upstreamValue(req node.Request, input string) (node.Value, string, bool) {
	id, ok := chatflow.InstanceRef(req.Node.Data.Inputs[input])
	if !ok {
		return node.Value{}, "", false
	}
	v, ok := req.Upstream[id]
	return v, id, ok
}

func upstreamModel(req node.Request, input string) (*node.Model, error) {
	v, id, ok := upstreamValue(req, input)
	if !ok || v.Model == nil {
		return nil, flowError("%s: input %q must be connected to a chat model (got %q)", req.Node.ID, input, id)
	}
	return v.Model, nil
}

func upstreamPrompt(req node.Request, input string) (*node.Prompt, error) {
	v, id, ok := upstreamValue(req, input)
	if !ok || v.Prompt == nil {
		return nil, flowError("%s: input %q must be connected to a prompt (got %q)", req.Node.ID, input, id)
	}
	return v.Prompt, nil
}

func upstreamMemory(req node.Request) *node.Memory {
	v, _, ok := upstreamValue(req, "memory")
	if !ok {
		return nil
	}
	return v.Memory
}
