package tools

import "net/http"

// RequestsGet is Flowise's GET request tool: the model
// fills the query or path parameters.
func (t *Tools) RequestsGet() Tool {
	return requestKind{kind: "requestsGet", method: http.MethodGet, defaultName: "requests_get",
		description: "Use this when you need to execute a GET request to get data from a website."}.tool(t.Deps)
}
