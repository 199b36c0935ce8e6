package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/flowgate/flowgate/workflows/node"
)

// googleSearch is Google's Custom Search JSON API with the tool's credential
// (googleCustomSearchApi: googleCustomSearchApiKey and the engine id googleCustomSearchApiId);
// GOOGLE_CUSTOM_SEARCH_BASE_URL replaces its address.
var googleSearch = webSearch{tool: "googleCustomSearch", baseEnv: "GOOGLE_CUSTOM_SEARCH_BASE_URL", base: "https://www.googleapis.com/customsearch/v1",
	keys: []string{"googleCustomSearchApiKey", "googleCustomSearchApiId"},
	query: func(q string, secret map[string]string) url.Values {
		return url.Values{"key": {secret["googleCustomSearchApiKey"]}, "cx": {secret["googleCustomSearchApiId"]}, "q": {q}}
	}}

// GoogleCustomSearch answers with the results' titles, links and snippets.
func (t *Tools) GoogleCustomSearch() Tool {
	return Tool{
		Offer: fixed("google-custom-search", "a custom search engine. useful for when you need to answer questions about current events. input should be a search query. outputs a JSON array of results.",
			`{"type":"object","properties":{"input":{"type":"string","description":"the search query"}},"required":["input"]}`),
		Run: t.googleCustomSearch,
	}
}

func (t *Tools) googleCustomSearch(ctx context.Context, req node.ToolRequest) (string, error) {
	body, err := t.search(ctx, req, googleSearch)
	if err != nil {
		return "", err
	}
	var res struct {
		Items []searchResult `json:"items"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("googleCustomSearch: unreadable answer: %w", err)
	}
	out, err := json.Marshal(res.Items)
	return string(out), err
}
