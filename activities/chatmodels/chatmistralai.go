package chatmodels

// ChatMistralAI is Mistral's chat completions API (overrideEndpoint, MISTRAL_BASE_URL).
func (Models) ChatMistralAI() Model {
	return Model{MaxTokens: "maxOutputTokens", BaseURL: "overrideEndpoint"}
}
