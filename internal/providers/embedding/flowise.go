package embedding

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Credential is the credential id a Flowise embedding config names: "credential" as the
// document store saves it, or "credentialId" as the node also accepts.
func Credential(cfg map[string]any) string {
	for _, k := range []string{"credential", "credentialId"} {
		if s, ok := cfg[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// KeyField is the credential field that holds a provider's key.
func KeyField(provider string) string {
	switch provider {
	case OpenAI:
		return "openAIApiKey"
	case Ollama:
		return "ollamaApiKey"
	case Azure:
		return "azureOpenAIApiKey"
	case LocalAI:
		return "localAIApiKey"
	case Mistral:
		return "mistralAIAPIKey"
	case Google:
		return "googleGenerativeAPIKey"
	}
	return ""
}

// FromFlowise builds a Config from a Flowise embedding node name and its inputs
// (openAIEmbeddings: modelName, basepath, dimensions, batchSize, stripNewLines, timeout in ms;
// azureOpenAIEmbeddings: basepath, batchSize, timeout; ollamaEmbedding: baseUrl, modelName;
// localAIEmbeddings: basePath, modelName; mistralAIEmbeddings: modelName, batchSize,
// stripNewLines, overrideEndpoint; googleGenerativeAiEmbeddings: modelName, tasktype, and
// Flowgate's baseUrl), with the decrypted credential's fields.
func FromFlowise(name string, inputs map[string]any, credential map[string]string) (Config, error) {
	cfg := Config{Provider: name, Model: str(inputs["modelName"])}
	switch name {
	case OpenAI, Azure:
		cfg.BaseURL = str(inputs["basepath"])
		cfg.Instance = credential["azureOpenAIApiInstanceName"]
		cfg.Deployment = credential["azureOpenAIApiDeploymentName"]
		cfg.APIVersion = credential["azureOpenAIApiVersion"]
	case Ollama, Google:
		cfg.BaseURL = str(inputs["baseUrl"])
		cfg.TaskType = str(inputs["tasktype"])
	case LocalAI:
		cfg.BaseURL = str(inputs["basePath"])
	case Mistral:
		cfg.BaseURL = str(inputs["overrideEndpoint"])
		cfg.StripNewLines = true // the node's default
	default:
		return Config{}, fmt.Errorf("%w: embeddings %q are not supported (supported: %s)", ErrConfig, name, strings.Join(Providers, ", "))
	}
	cfg.APIKey = credential[KeyField(name)]
	var err error
	if cfg.Dimensions, err = num(inputs, "dimensions"); err != nil {
		return Config{}, err
	}
	if cfg.BatchSize, err = num(inputs, "batchSize"); err != nil {
		return Config{}, err
	}
	ms, err := num(inputs, "timeout")
	if err != nil {
		return Config{}, err
	}
	cfg.Timeout = time.Duration(ms) * time.Millisecond
	switch v := inputs["stripNewLines"].(type) {
	case bool:
		cfg.StripNewLines = v
	case string:
		if v != "" { // empty keeps the node's default
			cfg.StripNewLines = v == "true"
		}
	}
	return cfg, nil
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

func num(inputs map[string]any, name string) (int, error) {
	switch v := inputs[name].(type) {
	case nil:
		return 0, nil
	case float64:
		return int(v), nil
	case string:
		if strings.TrimSpace(v) == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%w: %s %q is not a number", ErrConfig, name, v)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w: %s must be a number", ErrConfig, name)
}
