package activities

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// chatModel turns a chat-model node's inputs into provider settings and checks that its
// credential exists. It hands on the credential id, never the key: the chain that calls the
// model decrypts it.
func (a *Activities) chatModel(ctx context.Context, req node.Request) (node.Value, error) {
	n := req.Node
	cfg, err := modelConfig(n)
	if err != nil {
		return node.Value{}, err
	}
	credID := credentialID(n)
	if credID == "" && n.Data.Name != "chatOllama" {
		return node.Value{}, flowError("%s (%s) has no credential: pick one in the node", n.ID, n.Data.Name)
	}
	if credID != "" {
		if _, err := a.Store.GetCredential(ctx, credID); err != nil {
			if errors.Is(err, models.ErrNotFound) {
				return node.Value{}, credentialError("%s: credential %s not found", n.ID, credID)
			}
			return node.Value{}, err
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return node.Value{}, err
	}
	return node.Value{Kind: n.Data.Name, Model: &node.Model{
		Provider: n.Data.Name, CredentialID: credID, Config: raw, Streaming: cfg.Streaming,
	}}, nil
}

// credentialID reads the node's credential, which Flowise keeps in data.credential and, in
// newer exports, also in inputs.credential.
func credentialID(n chatflow.Node) string {
	if n.Data.Credential != "" {
		return n.Data.Credential
	}
	return n.Input("credential")
}

// modelConfig maps Flowise's input names for each provider onto llm.Config.
func modelConfig(n chatflow.Node) (llm.Config, error) {
	cfg := llm.Config{Provider: n.Data.Name, Model: n.Input("modelName"), Streaming: true}
	var err error
	num := func(name string) *float64 {
		s := n.Input(name)
		if s == "" || err != nil {
			return nil
		}
		f, perr := strconv.ParseFloat(s, 64)
		if perr != nil {
			err = flowError("%s: %s must be a number, got %q", n.ID, name, s)
			return nil
		}
		return &f
	}
	whole := func(name string) int {
		if f := num(name); f != nil {
			return int(*f)
		}
		return 0
	}
	cfg.Temperature = num("temperature")
	cfg.TopP = num("topP")
	switch n.Data.Name {
	case "chatAnthropic":
		cfg.MaxTokens = whole("maxTokensToSample")
	case "chatOllama":
		cfg.BaseURL = n.Input("baseUrl")
	case "chatGoogleGenerativeAI":
		cfg.MaxTokens = whole("maxOutputTokens")
		cfg.BaseURL = n.Input("baseUrl")
	case "chatMistralAI":
		cfg.MaxTokens = whole("maxOutputTokens")
		cfg.BaseURL = n.Input("overrideEndpoint")
	default:
		cfg.MaxTokens = whole("maxTokens")
		cfg.BaseURL = n.Input("basepath")
	}
	if ms := whole("timeout"); ms > 0 {
		cfg.Timeout = time.Duration(ms) * time.Millisecond
	}
	cfg.Streaming = !n.StreamingOff()
	if stop := n.Input("stopSequence"); stop != "" {
		for _, s := range strings.Split(stop, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Stop = append(cfg.Stop, s)
			}
		}
	}
	if err != nil {
		return cfg, err
	}
	if verr := cfg.Validate(); verr != nil {
		return cfg, flowError("%s: %v", n.ID, verr)
	}
	return cfg, nil
}
