// Package chatmodels holds the chat-model node kinds, one file each: how each reads its node's
// inputs into the settings the chain, agent or agentflow node that uses it calls the provider
// with (package llm). The settings travel through history; the credential stays an id until
// the call decrypts it.
package chatmodels

import (
	"cmp"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// Models is where the kinds table finds each chat model's Model, by the method its Run names.
type Models struct{}

// Model is how a chat-model kind reads its node: Flowise names some inputs per provider.
type Model struct {
	// MaxTokens is the input with the answer's token limit.
	MaxTokens string
	// BaseURL is the input that replaces the provider's address; empty for none.
	BaseURL string
	// NoCredential: the node may run without a credential (a local server).
	NoCredential bool
	// Compatible is the provider's OpenAI-compatible API, for a kind that package llm has no
	// adapter of its own for: a new provider of that sort is one row and one file.
	Compatible *Compatible
}

// Compatible is where a provider's OpenAI-compatible API is.
type Compatible struct {
	BaseURL    string // the API's address
	BaseURLEnv string // the environment variable that replaces it, as Flowise's node reads one
	KeyField   string // the credential field with the key; empty for none
	// StreamUsage asks for token usage at the end of a stream; some servers refuse it.
	StreamUsage bool
}

// Set is every chat model by kind, as activities.Register builds it from the kinds table.
type Set map[string]Model

// Node is a chat model as a flow configures it: a chatflow's chat-model node, or the model an
// agentflow node picks with its settings.
type Node struct {
	ID, Kind   string
	Credential string // the credential's id
	Inputs     map[string]any
}

// Configure turns a chat model's inputs into provider settings. It hands on the credential id,
// never the key: the node that calls the model loads and decrypts the credential, and reports
// one that is missing or unreadable. (Checking here too read every prediction's credential
// twice, 1.6% of all CPU at 50 clients.)
func (s Set) Configure(n Node) (*node.Model, error) {
	m, ok := s[n.Kind]
	if !ok {
		return nil, nodekit.FlowError("%s: %s is not a chat model Flowgate can call", n.ID, n.Kind)
	}
	cfg, err := m.config(n)
	if err != nil {
		return nil, err
	}
	if n.Credential == "" && !m.NoCredential {
		return nil, nodekit.FlowError("%s (%s) has no credential: pick one in the node", n.ID, n.Kind)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return &node.Model{Provider: n.Kind, CredentialID: n.Credential, Config: raw, Streaming: cfg.Streaming}, nil
}

// config maps Flowise's input names for the provider onto llm.Config.
func (m Model) config(n Node) (llm.Config, error) {
	text := func(name string) string {
		s, _ := nodekit.ScalarText(n.Inputs[name])
		return strings.TrimSpace(s)
	}
	var err error
	num := func(name string) *float64 {
		s := text(name)
		if s == "" || err != nil {
			return nil
		}
		f, perr := strconv.ParseFloat(s, 64)
		if perr != nil {
			err = nodekit.FlowError("%s: %s must be a number, got %q", n.ID, name, s)
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
	cfg := llm.Config{Provider: n.Kind, Model: text("modelName"), Streaming: true}
	if c := m.Compatible; c != nil {
		cfg.Compatible = &llm.Compatible{BaseURL: cmp.Or(os.Getenv(c.BaseURLEnv), c.BaseURL), KeyField: c.KeyField, StreamUsage: c.StreamUsage}
	}
	cfg.Temperature = num("temperature")
	cfg.TopP = num("topP")
	if m.MaxTokens != "" {
		cfg.MaxTokens = whole(m.MaxTokens)
	}
	if m.BaseURL != "" {
		cfg.BaseURL = text(m.BaseURL)
	}
	if ms := whole("timeout"); ms > 0 {
		cfg.Timeout = time.Duration(ms) * time.Millisecond
	}
	if v, ok := n.Inputs["streaming"]; ok && (v == false || v == "false") {
		cfg.Streaming = false
	}
	for _, s := range strings.Split(text("stopSequence"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Stop = append(cfg.Stop, s)
		}
	}
	if err != nil {
		return cfg, err
	}
	if verr := cfg.Validate(); verr != nil {
		return cfg, nodekit.FlowError("%s: %v", n.ID, verr)
	}
	return cfg, nil
}
