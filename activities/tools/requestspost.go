package tools

import "net/http"

// RequestsPost is Flowise's POST request tool: the model
// fills a JSON body, merged over the configured one.
func (t *Tools) RequestsPost() Tool {
	return requestKind{kind: "requestsPost", method: http.MethodPost, defaultName: "requests_post",
		description: "Use this when you want to execute a POST request to create or update a resource.",
		hasBody:     true, bodySetting: "requestPostBody"}.tool(t.Deps)
}
