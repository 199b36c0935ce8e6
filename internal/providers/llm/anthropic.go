package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// anthropicDefaultMaxTokens fills in max_tokens, which the Messages API
// requires, when the node leaves it empty.
const anthropicDefaultMaxTokens = 1024

// anthropicRequestTimeout replaces the SDK's own per-request limit for
// non-streamed calls (10 minutes, and an outright refusal for large
// max_tokens): deadlines belong to the caller's context and Config.Timeout.
const anthropicRequestTimeout = 24 * time.Hour

// chatAnthropic calls the Messages API. The client skips the SDK's
// environment defaults, which would otherwise read profile files on every
// call and could attach a second credential (ANTHROPIC_AUTH_TOKEN);
// ANTHROPIC_BASE_URL is still honoured.
func chatAnthropic(ctx context.Context, c call) (Response, error) {
	key, err := c.secret.field("anthropicApiKey")
	if err != nil {
		return Response{}, err
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0), // Temporal retries
		option.WithAPIKey(key),
		option.WithRequestTimeout(anthropicRequestTimeout),
	}
	base := c.cfg.BaseURL
	if base == "" {
		if base, err = envBaseURL("ANTHROPIC_BASE_URL"); err != nil {
			return Response{}, err
		}
	}
	if base != "" {
		opts = append(opts, option.WithBaseURL(base))
	}
	client := anthropic.NewClient(opts...)
	params, err := anthropicParams(c)
	if err != nil {
		return Response{}, err
	}

	if c.onToken == nil {
		msg, err := client.Messages.New(ctx, params)
		if err != nil {
			return Response{}, anthropicError("create message", err)
		}
		var text strings.Builder
		var calls []ToolCall
		for _, block := range msg.Content {
			switch block.Type {
			case "text":
				text.WriteString(block.Text)
			case "tool_use":
				calls = append(calls, ToolCall{ID: block.ID, Name: block.Name, Arguments: argumentsText(block.Input)})
			}
		}
		return Response{Text: text.String(), ToolCalls: calls, Usage: Usage{
			PromptTokens:     int(msg.Usage.InputTokens),
			CompletionTokens: int(msg.Usage.OutputTokens),
		}}, nil
	}

	stream := client.Messages.NewStreaming(ctx, params)
	defer stream.Close()
	out := transcript{onToken: c.onToken}
	var usage Usage
	for stream.Next() {
		event := stream.Current()
		switch event.Type {
		case "message_start":
			usage.PromptTokens = int(event.Message.Usage.InputTokens)
		case "content_block_delta":
			if event.Delta.Type == "text_delta" {
				out.add(event.Delta.Text)
			}
		case "message_delta":
			// Counts here are cumulative for the whole message.
			usage.CompletionTokens = int(event.Usage.OutputTokens)
			if event.Usage.InputTokens > 0 {
				usage.PromptTokens = int(event.Usage.InputTokens)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return Response{}, anthropicError("stream message", err)
	}
	return Response{Text: out.String(), Usage: usage}, nil
}

// anthropicParams moves system messages into the system parameter, the only
// place the Messages API accepts them, and maps tool calls onto content blocks:
// an assistant turn's calls become tool_use blocks after its text, and the
// results of one step become a single user message of tool_result blocks.
func anthropicParams(c call) (anthropic.MessageNewParams, error) {
	cfg := c.cfg
	p := anthropic.MessageNewParams{
		Model:         anthropic.Model(cfg.Model),
		MaxTokens:     int64(cmp.Or(cfg.MaxTokens, anthropicDefaultMaxTokens)),
		StopSequences: cfg.Stop,
	}
	for _, turn := range turns(c.messages) {
		m := turn[0]
		switch m.Role {
		case RoleSystem:
			p.System = append(p.System, anthropic.TextBlockParam{Text: m.Content})
		case RoleAssistant:
			blocks, err := anthropicAssistantBlocks(m)
			if err != nil {
				return p, err
			}
			p.Messages = append(p.Messages, anthropic.NewAssistantMessage(blocks...))
		case RoleTool:
			results := make([]anthropic.ContentBlockParamUnion, 0, len(turn))
			for _, r := range turn {
				results = append(results, anthropicToolResult(r))
			}
			p.Messages = append(p.Messages, anthropic.NewUserMessage(results...))
		default:
			p.Messages = append(p.Messages, anthropic.NewUserMessage(anthropic.NewTextBlock(m.Content)))
		}
	}
	decls, err := functionDecls(c.tools)
	if err != nil {
		return p, err
	}
	for _, d := range decls {
		tool := anthropic.ToolParam{Name: d.Name, InputSchema: anthropic.ToolInputSchemaParam{ExtraFields: d.Parameters}}
		if d.Description != "" {
			tool.Description = anthropic.String(d.Description)
		}
		p.Tools = append(p.Tools, anthropic.ToolUnionParam{OfTool: &tool})
	}
	if cfg.Temperature != nil {
		p.Temperature = anthropic.Float(*cfg.Temperature)
	}
	if cfg.TopP != nil {
		p.TopP = anthropic.Float(*cfg.TopP)
	}
	return p, nil
}

// anthropicAssistantBlocks is an assistant turn's text followed by its tool_use
// blocks. The text block is left out when a turn only calls tools, because the
// API rejects empty text blocks.
func anthropicAssistantBlocks(m Message) ([]anthropic.ContentBlockParamUnion, error) {
	if len(m.ToolCalls) == 0 {
		return []anthropic.ContentBlockParamUnion{anthropic.NewTextBlock(m.Content)}, nil
	}
	var blocks []anthropic.ContentBlockParamUnion
	if m.Content != "" {
		blocks = append(blocks, anthropic.NewTextBlock(m.Content))
	}
	for _, tc := range m.ToolCalls {
		args, err := argumentsObject(tc)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, anthropic.NewToolUseBlock(tc.ID, args, tc.Name))
	}
	return blocks, nil
}

// anthropicToolResult answers the tool_use block with the message's ToolCallID.
// An empty result goes without content, since an empty text block is rejected.
func anthropicToolResult(m Message) anthropic.ContentBlockParamUnion {
	result := anthropic.ToolResultBlockParam{ToolUseID: m.ToolCallID}
	if m.Content != "" {
		result.Content = []anthropic.ToolResultBlockParamContentUnion{{OfText: &anthropic.TextBlockParam{Text: m.Content}}}
	}
	return anthropic.ContentBlockParamUnion{OfToolResult: &result}
}

// anthropicError attaches the HTTP status of a failed call. An error event in
// the middle of a stream arrives under a 200 and stays status-less, hence
// retryable: such events report overload or internal errors.
func anthropicError(op string, err error) error {
	wrapped := fmt.Errorf("%s: %w", op, err)
	var apiErr *anthropic.Error
	if errors.As(err, &apiErr) && apiErr.StatusCode >= 400 {
		return &statusError{status: apiErr.StatusCode, err: wrapped}
	}
	return wrapped
}
