package chatmodels

// GroqChat is Groq's OpenAI-compatible API (basepath, GROQ_BASE_URL).
func (Models) GroqChat() Model { return Model{MaxTokens: "maxTokens", BaseURL: "basepath"} }
