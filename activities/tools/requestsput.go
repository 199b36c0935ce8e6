package tools

import "net/http"

// RequestsPut is Flowise's PUT request tool: the model
// fills a JSON body, merged over the configured one.
func (t *Tools) RequestsPut() Tool {
	return requestKind{kind: "requestsPut", method: http.MethodPut, defaultName: "requests_put",
		description: "Use this when you want to execute a PUT request to update or replace a resource.",
		hasBody:     true, bodySetting: "requestPutBody"}.tool(t.Deps)
}
