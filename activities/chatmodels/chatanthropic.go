package chatmodels

// ChatAnthropic is Anthropic's Messages API (ANTHROPIC_BASE_URL).
func (Models) ChatAnthropic() Model { return Model{MaxTokens: "maxTokensToSample"} }
