package nodekit

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/activity"

	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// StreamTo is where a node streams its answer: the request's topic when the node ends a
// streaming run, else nowhere.
func StreamTo(ending, stream bool, topic string) string {
	if ending && stream {
		return topic
	}
	return ""
}

// Chat is one call of a node's model.
type Chat struct {
	NodeID   string
	Model    *node.Model
	Messages []llm.Message
	// StreamTo is the topic the answer's tokens go to as they arrive, when the node answers a
	// streaming request and its model streams; empty for none.
	StreamTo string
}

// Streams reports whether the call's answer goes to StreamTo token by token.
func (c Chat) Streams() bool { return c.StreamTo != "" && c.Model != nil && c.Model.Streaming }

// Chat decrypts the model's credential and calls the provider. When the call Streams, every
// token is published; the returned text is exactly their concatenation.
func (d *Deps) Chat(ctx context.Context, c Chat) (string, error) {
	cfg, secret, err := d.prepare(ctx, c.NodeID, c.Model)
	if err != nil {
		return "", err
	}
	var onToken func(string)
	if c.Streams() {
		onToken = d.tokenPublisher(ctx, c.StreamTo)
	}
	start := time.Now()
	resp, err := llm.Chat(ctx, cfg, secret, c.Messages, onToken)
	d.observeCall(ctx, cfg, c.Messages, resp, time.Since(start), err)
	if err != nil {
		return "", callError(ctx, err)
	}
	return resp.Text, nil
}

// ChatWithTools asks a model that may call tools; it does not stream.
func (d *Deps) ChatWithTools(ctx context.Context, c Chat, tools []llm.Tool) (llm.Response, error) {
	cfg, secret, err := d.prepare(ctx, c.NodeID, c.Model)
	if err != nil {
		return llm.Response{}, err
	}
	start := time.Now()
	resp, err := llm.ChatWithTools(ctx, cfg, secret, c.Messages, tools)
	d.observeCall(ctx, cfg, c.Messages, resp, time.Since(start), err)
	if err != nil {
		return llm.Response{}, callError(ctx, err)
	}
	return resp, nil
}

// observeCall records a model call: its duration and the tokens its provider reported, in the
// metrics and on the node's span; the messages and the answer too when the operator turned
// content capture on.
func (d *Deps) observeCall(ctx context.Context, cfg llm.Config, messages []llm.Message, resp llm.Response, took time.Duration, err error) {
	d.Metrics.ModelCall(ctx, cfg.Provider, resp.Usage.PromptTokens, resp.Usage.CompletionTokens, took, err)
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(llm.ModelAttr.String(cfg.Model), llm.InputTokensAttr.Int(resp.Usage.PromptTokens),
		llm.OutputTokensAttr.Int(resp.Usage.CompletionTokens))
	if d.CaptureContent {
		prompt, _ := json.Marshal(messages)
		span.SetAttributes(telemetry.PromptAttr.String(string(prompt)), telemetry.CompletionAttr.String(resp.Text))
	}
}

// prepare reads a model's settings and decrypts its credential for one call.
func (d *Deps) prepare(ctx context.Context, nodeID string, m *node.Model) (llm.Config, llm.Secret, error) {
	if m == nil {
		return llm.Config{}, nil, FlowError("%s: no chat model", nodeID)
	}
	var cfg llm.Config
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		return cfg, nil, FlowError("%s: model settings are unreadable: %v", nodeID, err)
	}
	secret, err := d.Secret(ctx, m.CredentialID)
	return cfg, secret, err
}

// callError is a failed provider call as the workflow should see it: the activity's own
// cancellation (an abort) as such, else classified for the retry policy.
func callError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return Classify(err)
}

// tokenPublisher publishes each token of this attempt on topic. A broker that fails is no
// reason to fail the node: streaming stops for this attempt instead, so the client keeps a
// clean prefix (the API sends the rest of the answer once it is saved) and the model is not
// slowed by a publish per token that each waits out its timeout.
func (d *Deps) tokenPublisher(ctx context.Context, topic string) func(string) {
	attempt := attemptOf(ctx)
	broken := false
	return func(tok string) {
		if broken {
			return
		}
		if err := d.Stream.Publish(ctx, topic, attempt, node.TokenEvent, tok); err != nil {
			broken = true
			d.warn("streaming stopped for this attempt", "topic", topic, "error", err)
		}
	}
}

// attemptOf names the attempt tokens are published under: the API sends the client each
// token once by telling a retry's repeat of the answer from new text, and needs only that two
// attempts differ. A regular activity's attempt number does. A local one's restarts at 1 when
// its workflow task runs again on another worker after a crash, so it is told apart by when it
// started instead (negative, never a regular attempt's number).
func attemptOf(ctx context.Context) int32 {
	if !activity.IsActivity(ctx) {
		return 1
	}
	info := activity.GetInfo(ctx)
	if !info.IsLocalActivity {
		return info.Attempt
	}
	return -1 - int32(info.StartedTime.UnixMilli()%(1<<30))
}

// PublishAnswer sends a whole answer as one token of a streaming request; a broker failure
// only costs the stream, which the API completes from the saved answer.
func (d *Deps) PublishAnswer(ctx context.Context, topic, text string) {
	if err := d.Stream.Publish(ctx, topic, attemptOf(ctx), node.TokenEvent, text); err != nil {
		d.warn("could not stream the reply", "topic", topic, "error", err)
	}
}

// Publish sends an event on topic; a broker failure costs only that event.
func (d *Deps) Publish(ctx context.Context, topic, name string, data any) {
	if err := d.Stream.Publish(ctx, topic, 0, name, data); err != nil {
		d.warn("publish "+name, "topic", topic, "error", err)
	}
}

func (d *Deps) warn(msg string, args ...any) {
	if d.Logger != nil {
		d.Logger.Warn(msg, args...)
	}
}

// WithSchema asks the model for a JSON answer matching schema. Such an answer is not
// streamed token by token (as in Flowise): it is a whole only once it parses.
func WithSchema(m *node.Model, schema json.RawMessage) (*node.Model, error) {
	var cfg llm.Config
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		return nil, FlowError("model settings are unreadable: %v", err)
	}
	cfg.JSONSchema = schema
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	out := *m
	out.Config, out.Streaming = raw, false
	return &out, nil
}

// Secret decrypts a credential for the duration of one call.
func (d *Deps) Secret(ctx context.Context, id string) (llm.Secret, error) {
	if id == "" {
		return llm.Secret{}, nil
	}
	row, err := d.Store.GetCredential(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, CredentialError("credential %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	plain, err := d.Cipher.Decrypt(row.EncryptedData)
	if err != nil {
		if errors.Is(err, secrets.ErrDecrypt) {
			return nil, CredentialError("credential %s (%s): %v", id, row.Name, err)
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
