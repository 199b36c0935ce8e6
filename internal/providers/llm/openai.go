package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// chatOpenAI calls the OpenAI API or any server compatible with it. Without a
// BaseURL the SDK's defaults apply, including OPENAI_BASE_URL.
func chatOpenAI(ctx context.Context, c call) (Response, error) {
	return openAICompatible(ctx, c, "openAIApiKey", c.cfg.BaseURL, true)
}

// groqBaseURL is Groq's OpenAI-compatible endpoint.
const groqBaseURL = "https://api.groq.com/openai/v1"

// chatGroq calls Groq, whose API is OpenAI's; GROQ_BASE_URL replaces its address.
func chatGroq(ctx context.Context, c call) (Response, error) {
	return openAICompatible(ctx, c, "groqApiKey", cmp.Or(c.cfg.BaseURL, os.Getenv("GROQ_BASE_URL"), groqBaseURL), true)
}

// mistralBaseURL is Mistral's API, whose chat completions follow OpenAI's.
const mistralBaseURL = "https://api.mistral.ai/v1"

// chatMistral calls Mistral; MISTRAL_BASE_URL (or the node's overrideEndpoint) replaces its
// address. Mistral reports usage on the last chunk of a stream without being asked, and
// takes no stream_options.
func chatMistral(ctx context.Context, c call) (Response, error) {
	return openAICompatible(ctx, c, "mistralAIAPIKey", cmp.Or(c.cfg.BaseURL, os.Getenv("MISTRAL_BASE_URL"), mistralBaseURL), false)
}

// chatCompatible calls a provider described by Config.Compatible.
func chatCompatible(ctx context.Context, c call) (Response, error) {
	p := c.cfg.Compatible
	return openAICompatible(ctx, c, p.KeyField, cmp.Or(c.cfg.BaseURL, p.BaseURL), p.StreamUsage)
}

// openAICompatible calls a Chat Completions API with the key in the credential's keyField;
// streamUsage asks for a usage chunk at the end of a stream.
func openAICompatible(ctx context.Context, c call, keyField, baseURL string, streamUsage bool) (Response, error) {
	// A server without keys (a local one) gets an empty key, never OPENAI_API_KEY.
	key := ""
	if keyField != "" {
		var err error
		if key, err = c.secret.field(keyField); err != nil {
			return Response{}, err
		}
	}
	opts := []option.RequestOption{
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0), // Temporal retries
		option.WithAPIKey(key),
	}
	if baseURL != "" {
		opts = append(opts, option.WithBaseURL(baseURL))
	}
	client := openai.NewClient(opts...)
	return completeOpenAI(ctx, client.Chat.Completions, c, streamUsage)
}

// completeOpenAI runs a Chat Completions request on svc, which is configured
// for either OpenAI or Azure. streamUsage asks for a usage chunk at the end
// of a stream.
func completeOpenAI(ctx context.Context, svc openai.ChatCompletionService, c call, streamUsage bool) (Response, error) {
	params := openAIParams(c.cfg, c.messages)
	decls, err := functionDecls(c.tools)
	if err != nil {
		return Response{}, err
	}
	for _, d := range decls {
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: d.Name, Description: openai.String(d.Description), Parameters: d.Parameters,
		}))
	}
	if c.onToken == nil {
		completion, err := svc.New(ctx, params)
		if err != nil {
			return Response{}, openAIError("create completion", err)
		}
		if len(completion.Choices) == 0 {
			return Response{}, errors.New("create completion: response has no choices")
		}
		msg := completion.Choices[0].Message
		resp := Response{Text: msg.Content, Usage: openAIUsage(completion.Usage)}
		for _, tc := range msg.ToolCalls {
			resp.ToolCalls = append(resp.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
		}
		return resp, nil
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
			if len(m.ToolCalls) == 0 {
				p.Messages = append(p.Messages, openai.AssistantMessage(m.Content))
				continue
			}
			asst := openai.ChatCompletionAssistantMessageParam{}
			if m.Content != "" {
				asst.Content.OfString = openai.String(m.Content)
			}
			for _, tc := range m.ToolCalls {
				asst.ToolCalls = append(asst.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{ID: tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Arguments}},
				})
			}
			p.Messages = append(p.Messages, openai.ChatCompletionMessageParamUnion{OfAssistant: &asst})
		case RoleTool:
			p.Messages = append(p.Messages, openai.ToolMessage(m.Content, m.ToolCallID))
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
	if len(cfg.JSONSchema) > 0 {
		p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "output", Schema: cfg.JSONSchema},
		}}
	}
	return p
}

// speaksOpenAI reports the providers whose API is OpenAI's Chat Completions, which takes a
// JSON schema for the answer.
func (c Config) speaksOpenAI() bool {
	return c.Compatible != nil || c.Provider == providerOpenAI || c.Provider == providerAzure || c.Provider == providerGroq
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
