package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// chatOpenAI calls the OpenAI API or any server compatible with it. Without a
// BaseURL the SDK's defaults apply, including OPENAI_BASE_URL.
func chatOpenAI(ctx context.Context, c call) (Response, error) {
	key, err := c.secret.field("openAIApiKey")
	if err != nil {
		return Response{}, err
	}
	opts := []option.RequestOption{
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0), // Temporal retries
		option.WithAPIKey(key),
	}
	if c.cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(c.cfg.BaseURL))
	}
	client := openai.NewClient(opts...)
	return completeOpenAI(ctx, client.Chat.Completions, c, true)
}

// completeOpenAI runs a Chat Completions request on svc, which is configured
// for either OpenAI or Azure. streamUsage asks for a usage chunk at the end
// of a stream.
func completeOpenAI(ctx context.Context, svc openai.ChatCompletionService, c call, streamUsage bool) (Response, error) {
	params := openAIParams(c.cfg, c.messages)
	if c.onToken == nil {
		completion, err := svc.New(ctx, params)
		if err != nil {
			return Response{}, openAIError("create completion", err)
		}
		if len(completion.Choices) == 0 {
			return Response{}, errors.New("create completion: response has no choices")
		}
		return Response{Text: completion.Choices[0].Message.Content, Usage: openAIUsage(completion.Usage)}, nil
	}

	if streamUsage {
		params.StreamOptions.IncludeUsage = openai.Bool(true)
	}
	stream := svc.NewStreaming(ctx, params)
	defer stream.Close()
	out := transcript{onToken: c.onToken}
	var usage Usage
	for stream.Next() {
		chunk := stream.Current()
		if chunk.JSON.Usage.Valid() {
			usage = openAIUsage(chunk.Usage)
		}
		// The usage chunk has no choices.
		if len(chunk.Choices) > 0 {
			out.add(chunk.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err != nil {
		return Response{}, openAIError("stream completion", err)
	}
	return Response{Text: out.String(), Usage: usage}, nil
}

func openAIParams(cfg Config, msgs []Message) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:    cfg.Model,
		Messages: make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs)),
	}
	for _, m := range msgs {
		switch m.Role {
		case RoleSystem:
			p.Messages = append(p.Messages, openai.SystemMessage(m.Content))
		case RoleAssistant:
			p.Messages = append(p.Messages, openai.AssistantMessage(m.Content))
		default:
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		}
	}
	if cfg.Temperature != nil {
		p.Temperature = openai.Float(*cfg.Temperature)
	}
	if cfg.TopP != nil {
		p.TopP = openai.Float(*cfg.TopP)
	}
	if cfg.MaxTokens > 0 {
		if isReasoningModel(cfg.Model) {
			p.MaxCompletionTokens = openai.Int(int64(cfg.MaxTokens))
		} else {
			p.MaxTokens = openai.Int(int64(cfg.MaxTokens))
		}
	}
	if len(cfg.Stop) > 0 {
		p.Stop = openai.ChatCompletionNewParamsStopUnion{OfStringArray: cfg.Stop}
	}
	return p
}

// isReasoningModel reports OpenAI's o-series and gpt-5 models, which reject
// max_tokens and require max_completion_tokens. Other models, and most
// OpenAI-compatible servers, still expect max_tokens. LangChain draws the
// same line.
func isReasoningModel(model string) bool {
	if strings.HasPrefix(model, "gpt-5") {
		return true
	}
	return len(model) > 1 && model[0] == 'o' && model[1] >= '0' && model[1] <= '9'
}

func openAIUsage(u openai.CompletionUsage) Usage {
	return Usage{PromptTokens: int(u.PromptTokens), CompletionTokens: int(u.CompletionTokens)}
}

// openAIError attaches the HTTP status and the provider's message, which the
// SDK's error string leaves out, to a failed call.
func openAIError(op string, err error) error {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", op, err)
	}
	wrapped := fmt.Errorf("%s: %w", op, err)
	if apiErr.Message != "" {
		wrapped = fmt.Errorf("%s: %w: %s", op, err, apiErr.Message)
	}
	return &statusError{status: apiErr.StatusCode, err: wrapped}
}
