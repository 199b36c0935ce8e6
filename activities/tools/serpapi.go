package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// serpSearch is SerpAPI's Google search with the tool's credential (serpApi: serpApiKey);
// SERPAPI_BASE_URL replaces its address.
var serpSearch = webSearch{tool: "serpAPI", baseEnv: "SERPAPI_BASE_URL", base: "https://serpapi.com/search",
	keys: []string{"serpApiKey"},
	query: func(q string, secret map[string]string) url.Values {
		return url.Values{"engine": {"google"}, "q": {q}, "api_key": {secret["serpApiKey"]}}
	}}

// SerpAPI answers with the best of what SerpAPI finds: a direct answer box, else the organic
// results.
func (t *Tools) SerpAPI() Tool {
	return Tool{
		Offer: fixed("search", "a search engine. useful for when you need to answer questions about current events. input should be a search query.",
			`{"type":"object","properties":{"input":{"type":"string","description":"the search query"}},"required":["input"]}`),
		Run: t.serpAPI,
	}
}

func (t *Tools) serpAPI(ctx context.Context, req node.ToolRequest) (string, error) {
	body, err := t.search(ctx, req, serpSearch)
	if err != nil {
		return "", err
	}
	var res struct {
		Error     string `json:"error"`
		AnswerBox struct {
			Answer  string `json:"answer"`
			Snippet string `json:"snippet"`
		} `json:"answer_box"`
		Organic []searchResult `json:"organic_results"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("serpAPI: unreadable answer: %w", err)
	}
	switch {
	case res.Error != "":
		return "", nodekit.FlowError("serpAPI: %s", res.Error)
	case res.AnswerBox.Answer != "":
		return res.AnswerBox.Answer, nil
	case res.AnswerBox.Snippet != "":
		return res.AnswerBox.Snippet, nil
	case len(res.Organic) == 0:
		return "No good search result found", nil
	}
	out, err := json.Marshal(res.Organic)
	return string(out), err
}
