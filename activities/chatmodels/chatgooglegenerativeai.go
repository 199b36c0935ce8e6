package chatmodels

// ChatGoogleGenerativeAI is Gemini's REST API (baseUrl, GOOGLE_GENAI_BASE_URL).
func (Models) ChatGoogleGenerativeAI() Model {
	return Model{MaxTokens: "maxOutputTokens", BaseURL: "baseUrl"}
}
