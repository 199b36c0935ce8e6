// Package llm calls chat models for Flowise chat-model nodes (chatOpenAI,
// azureChatOpenAI, chatAnthropic, chatOllama, groqChat, chatGoogleGenerativeAI,
// chatMistralAI)
// from Temporal activities, with or without tools the model may call.
//
// Temporal's retry policy is the only retry layer: provider SDKs run with
// their own retries off, and every failure comes back as a *ProviderError
// whose Retryable flag tells the activity whether retrying can help. A call
// aborted by the caller's context returns that context's error instead.
//
// Base URLs come from Config.BaseURL (the node's basepath/baseUrl input) and
// otherwise from the environment: OPENAI_BASE_URL (chatOpenAI, read by the
// SDK), AZURE_OPENAI_BASE_PATH (azureChatOpenAI, the variable LangChain JS
// reads), ANTHROPIC_BASE_URL (chatAnthropic), OLLAMA_HOST (chatOllama),
// GROQ_BASE_URL (groqChat), GOOGLE_GENAI_BASE_URL (chatGoogleGenerativeAI) and
// MISTRAL_BASE_URL (chatMistralAI).
package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is the author of a chat message.
type Role string

// The roles every provider understands.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	// RoleTool carries a tool's result back to the model. Providers without such a role
	// get it in their own form (Anthropic tool_result blocks, Gemini functionResponse parts).
	RoleTool Role = "tool"
)

// Message is one turn of a conversation.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
	// ToolCalls are the calls an assistant turn asked for.
	ToolCalls []ToolCall `json:"toolCalls,omitempty"`
	// ToolCallID is the call a tool message answers.
	ToolCallID string `json:"toolCallId,omitempty"`
}

// Tool is a function the model may call.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"` // a JSON schema object
}

// ToolCall is one call the model asked for.
type ToolCall struct {
	// ID is the provider's call id, or call_<n> (the n-th call of the response) where the
	// provider gives none (Gemini's older models, Ollama).
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"` // the JSON object the model passed
}

// Config is what a Flowise chat-model node hands to the chain that uses it:
// provider settings, never a secret, so it can travel through workflow
// history.
type Config struct {
	// Provider is the Flowise node name; see Providers.
	Provider    string   `json:"provider"`
	Model       string   `json:"model"`
	Temperature *float64 `json:"temperature,omitempty"`
	MaxTokens   int      `json:"maxTokens,omitempty"`
	TopP        *float64 `json:"topP,omitempty"`
	// Streaming is the node's setting. Chat streams exactly when it is given
	// an onToken callback; callers use this flag to decide whether to pass one.
	Streaming bool `json:"streaming"`
	// BaseURL is the node's basepath/baseUrl input; empty means the provider
	// default or its environment variable (see the package documentation).
	BaseURL string `json:"baseURL,omitempty"`
	// Timeout bounds one call; 0 leaves it to the caller's context. Unlike a
	// caller deadline, hitting it yields a retryable ProviderError.
	Timeout time.Duration `json:"timeout,omitempty"`
	Stop    []string      `json:"stop,omitempty"`
	// JSONSchema asks for an answer that is one JSON object matching this schema: through the
	// API's structured output where it has one (OpenAI-compatible APIs), else by instruction.
	JSONSchema json.RawMessage `json:"jsonSchema,omitempty"`
	// Compatible is set for a provider this package has no adapter of its own for, whose API
	// is OpenAI's Chat Completions (DeepSeek, OpenRouter, xAI…): where it is and which field
	// of the credential holds the key.
	Compatible *Compatible `json:"compatible,omitempty"`
}

// Compatible is a provider that speaks OpenAI's Chat Completions API.
type Compatible struct {
	BaseURL  string `json:"baseURL"`  // the API's address, ending in /v1 or its equivalent
	KeyField string `json:"keyField"` // the credential field with the key; empty: no key
	// StreamUsage asks for token usage at the end of a stream (stream_options); some
	// servers refuse the option.
	StreamUsage bool `json:"streamUsage,omitempty"`
}

// Secret holds decrypted credential fields (Flowise plainDataObj, e.g.
// {"openAIApiKey": "sk-.."}). It is never logged or put in an error message.
type Secret map[string]string

// Response is a finished completion.
type Response struct {
	Text  string
	Usage Usage
	// ToolCalls are the calls the model asked for instead of (or with) an answer.
	ToolCalls []ToolCall
}

// Usage is the token count the provider reported; zero when it reported none
// (azureChatOpenAI does not ask for usage on streams, because older API
// versions reject the option).
type Usage struct {
	PromptTokens, CompletionTokens int
}

// call is one Chat invocation as handed to a provider.
type call struct {
	cfg      Config
	secret   Secret
	messages []Message
	tools    []Tool
	onToken  func(string)
}

// Chat runs one completion. If onToken is non-nil the provider streams and
// calls onToken for every text delta in order; the returned Text is then
// exactly the concatenation of the deltas passed to onToken. Deltas already
// delivered when a stream fails midway are not retracted; a retry starts over.
//
// Errors are *ProviderError, except that when ctx ends first Chat returns an
// error wrapping ctx.Err().
func Chat(ctx context.Context, cfg Config, secret Secret, messages []Message, onToken func(string)) (Response, error) {
	return traced(ctx, cfg, func(ctx context.Context) (Response, error) { return chat(ctx, cfg, secret, messages, nil, onToken) })
}

// ChatWithTools runs one completion in which the model may call tools: its Response carries
// the calls it asked for. It does not stream. Every provider here can call tools
// (chatOpenAI, azureChatOpenAI, groqChat, chatAnthropic, chatGoogleGenerativeAI,
// chatOllama), each through its own API's function calling.
//
// To continue after a call, append the assistant turn (Response.Text and ToolCalls) and one
// RoleTool message per call, with ToolCallID set to the call's ID, then call again with the
// same tools. Results must directly follow the turn that asked for them: Anthropic and
// Gemini receive the results of one turn together, and Gemini and Ollama look a result's
// function name up among the calls before it.
func ChatWithTools(ctx context.Context, cfg Config, secret Secret, messages []Message, tools []Tool) (Response, error) {
	return traced(ctx, cfg, func(ctx context.Context) (Response, error) { return chat(ctx, cfg, secret, messages, tools, nil) })
}

func chat(ctx context.Context, cfg Config, secret Secret, messages []Message, tools []Tool, onToken func(string)) (Response, error) {
	if err := cfg.Validate(); err != nil {
		return Response{}, &ProviderError{Provider: cfg.Provider, Err: err}
	}
	if err := validateMessages(messages); err != nil {
		return Response{}, &ProviderError{Provider: cfg.Provider, Err: err}
	}
	if len(tools) > 0 && cfg.Compatible == nil && !slices.Contains(toolProviders, cfg.Provider) {
		return Response{}, &ProviderError{Provider: cfg.Provider, Err: fmt.Errorf("%w: %s cannot call tools here (use one of %s)",
			errConfig, cfg.Provider, strings.Join(toolProviders, ", "))}
	}
	callCtx := ctx
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	if len(cfg.JSONSchema) > 0 && !cfg.speaksOpenAI() {
		// Without a structured-output parameter, the schema goes in as an instruction.
		messages = append([]Message{{Role: RoleSystem, Content: "Answer with one JSON object, and nothing else, that matches this JSON schema: " + string(cfg.JSONSchema)}}, messages...)
	}
	resp, err := cfg.adapter()(callCtx, call{cfg: cfg, secret: secret, messages: messages, tools: tools, onToken: onToken})
	if err == nil {
		return resp, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return Response{}, fmt.Errorf("%s: %w", cfg.Provider, ctxErr)
	}
	if callCtx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", cfg.Timeout, err)
	}
	return Response{}, classify(cfg.Provider, secret, err)
}

func validateMessages(msgs []Message) error {
	if len(msgs) == 0 {
		return fmt.Errorf("%w: no messages", errConfig)
	}
	for i, m := range msgs {
		switch m.Role {
		case RoleSystem, RoleUser, RoleAssistant, RoleTool:
		default:
			return fmt.Errorf("%w: message %d has unknown role %q", errConfig, i, m.Role)
		}
	}
	return nil
}

// transcript collects streamed deltas while forwarding them, which is what
// guarantees Response.Text equals the concatenation onToken saw.
type transcript struct {
	text    strings.Builder
	onToken func(string)
}

func (t *transcript) add(delta string) {
	if delta == "" {
		return
	}
	t.text.WriteString(delta)
	t.onToken(delta)
}

func (t *transcript) String() string { return t.text.String() }
