package llmmock

import (
	"encoding/json"
	"fmt"
	"strings"
)

// PointFlow edits a Flowise flow export so that its chat models use credentialID and talk to
// the mock at baseURL, each over its own provider's wire protocol: the only edits a Flowise
// user makes to run an exported flow somewhere else. It returns the flowData (nodes and edges)
// and how many chat models it pointed.
func PointFlow(export []byte, baseURL, credentialID string) (string, int, error) {
	var g struct {
		Nodes []map[string]any `json:"nodes"`
		Edges []any            `json:"edges"`
	}
	if err := json.Unmarshal(export, &g); err != nil {
		return "", 0, fmt.Errorf("parse the flow: %w", err)
	}
	base := strings.TrimRight(baseURL, "/")
	models := 0
	for _, n := range g.Nodes {
		data, _ := n["data"].(map[string]any)
		if data == nil {
			continue
		}
		models += pointAgentModels(data, base, credentialID)
		if data["name"] == "inputModerationOpenAI" {
			// Flowise's node always calls api.openai.com; Flowgate's also reads a basepath.
			data["credential"] = credentialID
			if inputs, _ := data["inputs"].(map[string]any); inputs != nil {
				inputs["basepath"] = base + "/v1"
			} else {
				data["inputs"] = map[string]any{"basepath": base + "/v1"}
			}
		}
		if data["category"] != "Chat Models" {
			continue
		}
		inputs, _ := data["inputs"].(map[string]any)
		if inputs == nil {
			inputs = map[string]any{}
			data["inputs"] = inputs
		}
		data["credential"] = credentialID
		if _, ok := inputs["credential"]; ok {
			inputs["credential"] = credentialID
		}
		pointModel(inputs, data["name"], base)
		models++
	}
	out, err := json.Marshal(map[string]any{"nodes": g.Nodes, "edges": g.Edges})
	if err != nil {
		return "", 0, fmt.Errorf("encode flowData: %w", err)
	}
	return string(out), models, nil
}

// pointModel sets the base URL input a provider's node reads.
func pointModel(inputs map[string]any, provider any, base string) {
	switch provider {
	case "azureChatOpenAI":
		inputs["basepath"] = base + "/openai/deployments"
	case "chatOllama", "chatGoogleGenerativeAI":
		inputs["baseUrl"] = base
	case "chatMistralAI":
		inputs["overrideEndpoint"] = base + "/v1"
	default:
		inputs["basepath"] = base + "/v1"
	}
}

// pointAgentModels points the models an agentflow node picks inside itself (llmModel with
// llmModelConfig, agentModel with agentModelConfig, …) and reports how many it pointed.
func pointAgentModels(data map[string]any, base, credentialID string) int {
	inputs, _ := data["inputs"].(map[string]any)
	n := 0
	for key, v := range inputs {
		provider, ok := v.(string)
		settings, _ := inputs[key+"Config"].(map[string]any)
		if !ok || provider == "" || !strings.HasSuffix(key, "Model") || settings == nil {
			continue
		}
		settings["credential"] = credentialID
		pointModel(settings, provider, base)
		n++
	}
	return n
}
