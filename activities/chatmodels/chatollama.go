package chatmodels

// ChatOllama is an Ollama server (baseUrl, OLLAMA_HOST), which usually needs no key. Flowise's
// node has no token limit.
func (Models) ChatOllama() Model { return Model{BaseURL: "baseUrl", NoCredential: true} }
