package tools

import "net/http"

// RequestsDelete is Flowise's DELETE request tool: the model
// fills the query or path parameters.
func (t *Tools) RequestsDelete() Tool {
	return requestKind{kind: "requestsDelete", method: http.MethodDelete, defaultName: "requests_delete",
		description: "Use this when you need to execute a DELETE request to remove data from a website."}.tool(t.Deps)
}
