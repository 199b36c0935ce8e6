package llm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Flowise node names of the supported providers.
const (
	providerOpenAI    = "chatOpenAI"
	providerAzure     = "azureChatOpenAI"
	providerAnthropic = "chatAnthropic"
	providerOllama    = "chatOllama"
	providerGroq      = "groqChat"
	providerGemini    = "chatGoogleGenerativeAI"
	providerMistral   = "chatMistralAI"
)

// chatFunc is one provider's Chat. ctx already carries Config.Timeout, and
// the arguments are validated.
type chatFunc func(ctx context.Context, c call) (Response, error)

var providers = map[string]chatFunc{
	providerOpenAI:    chatOpenAI,
	providerAzure:     chatAzureOpenAI,
	providerAnthropic: chatAnthropic,
	providerOllama:    chatOllama,
	providerGroq:      chatGroq,
	providerGemini:    chatGemini,
	providerMistral:   chatMistral,
}

// Providers returns the supported provider names, sorted.
func Providers() []string {
	return slices.Sorted(maps.Keys(providers))
}

// adapter is the provider's own Chat, or the OpenAI-compatible one.
func (c Config) adapter() chatFunc {
	if c.Compatible != nil {
		return chatCompatible
	}
	return providers[c.Provider]
}

// Validate reports settings no provider call could succeed with, so they fail
// once instead of being retried.
func (c Config) Validate() error {
	if c.Compatible != nil {
		if c.Compatible.BaseURL == "" {
			return fmt.Errorf("%w: %s has no API address", errConfig, c.Provider)
		}
	} else if _, ok := providers[c.Provider]; !ok {
		return fmt.Errorf("%w: unknown chat model provider %q (supported: %s)",
			errConfig, c.Provider, strings.Join(Providers(), ", "))
	}
	var problems []error
	// Azure picks the model by deployment, so the name is informational there.
	if strings.TrimSpace(c.Model) == "" && c.Provider != providerAzure {
		problems = append(problems, errors.New("model name is required"))
	}
	if c.Temperature != nil && *c.Temperature < 0 {
		problems = append(problems, fmt.Errorf("temperature %v is negative", *c.Temperature))
	}
	if c.TopP != nil && (*c.TopP < 0 || *c.TopP > 1) {
		problems = append(problems, fmt.Errorf("topP %v is outside [0, 1]", *c.TopP))
	}
	if c.MaxTokens < 0 {
		problems = append(problems, fmt.Errorf("maxTokens %d is negative", c.MaxTokens))
	}
	if c.Timeout < 0 {
		problems = append(problems, fmt.Errorf("timeout %v is negative", c.Timeout))
	}
	if c.BaseURL != "" {
		if err := checkBaseURL(c.BaseURL); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %w", errConfig, errors.Join(problems...))
	}
	return nil
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base URL %q must be an absolute http(s) URL", raw)
	}
	return nil
}

// envBaseURL reads a base URL from the environment, checked like
// Config.BaseURL so a typo fails once instead of on every retry. An unset
// variable yields "".
func envBaseURL(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", nil
	}
	if err := checkBaseURL(v); err != nil {
		return "", fmt.Errorf("%w: %s: %w", errConfig, name, err)
	}
	return v, nil
}

// field returns a required secret field. The error names the field, never a
// value, and is not retryable: the credential has to be fixed first.
func (s Secret) field(name string) (string, error) {
	v := strings.TrimSpace(s[name])
	if v == "" {
		return "", fmt.Errorf("%w: credential field %q is missing", errConfig, name)
	}
	return v, nil
}
