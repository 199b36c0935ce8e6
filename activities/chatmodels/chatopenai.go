package chatmodels

// ChatOpenAI is OpenAI's Chat Completions API, or any server that speaks it (basepath,
// OPENAI_BASE_URL).
func (Models) ChatOpenAI() Model { return Model{MaxTokens: "maxTokens", BaseURL: "basepath"} }
