package chatmodels

// ChatDeepseek is DeepSeek's OpenAI-compatible API. Flowise's node has no address input;
// FLOWGATE_DEEPSEEK_BASE_URL replaces the address (a proxy, or a test server).
func (Models) ChatDeepseek() Model {
	return Model{MaxTokens: "maxTokens", Compatible: &Compatible{
		BaseURL:     "https://api.deepseek.com",
		BaseURLEnv:  "FLOWGATE_DEEPSEEK_BASE_URL",
		KeyField:    "deepseekApiKey",
		StreamUsage: true,
	}}
}
