package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/workflows/node"
)

// serperBaseEnv replaces Serper.dev's address (tests point it at a local stand-in).
const serperBaseEnv = "SERPER_BASE_URL"

// Serper searches Google through Serper.dev with the tool's credential (serperApi:
// serperApiKey) and answers, as LangChain's Serper tool does, with the best single result:
// the answer box, the sports spotlight, the knowledge graph's description or the first hit's
// snippet.
func (t *Tools) Serper() Tool {
	return Tool{
		Offer: fixed("search", "a search engine. useful for when you need to answer questions about current events. input should be a search query.",
			`{"type":"object","properties":{"input":{"type":"string","description":"the search query"}},"required":["input"]}`),
		Run: t.serper,
	}
}

func (t *Tools) serper(ctx context.Context, req node.ToolRequest) (string, error) {
	args, err := callArgs(req.Call)
	if err != nil {
		return "", err
	}
	query, _ := args["input"].(string)
	secret, err := t.Secret(ctx, setting(req, "credential"))
	if err != nil {
		return "", err
	}
	if secret["serperApiKey"] == "" {
		return "", nodekit.FlowError("serper: the credential needs serperApiKey")
	}
	body, err := json.Marshal(map[string]string{"q": query})
	if err != nil {
		return "", err
	}
	headers := map[string]string{"X-API-KEY": secret["serperApiKey"], "Content-Type": "application/json"}
	status, _, out, err := t.Send(ctx, http.MethodPost, cmp.Or(os.Getenv(serperBaseEnv), "https://google.serper.dev/search"), headers, string(body))
	if err != nil {
		return "", nodekit.Annotate(err, "serper")
	}
	if status != http.StatusOK {
		return "", apiStatusError("serper", status)
	}
	var res struct {
		AnswerBox struct {
			Answer      string   `json:"answer"`
			Snippet     string   `json:"snippet"`
			Highlighted []string `json:"snippet_highlighted_words"`
		} `json:"answerBox"`
		SportsResults struct {
			GameSpotlight string `json:"game_spotlight"`
		} `json:"sportsResults"`
		KnowledgeGraph struct {
			Description string `json:"description"`
		} `json:"knowledgeGraph"`
		Organic []searchResult `json:"organic"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return "", fmt.Errorf("serper: unreadable answer: %w", err)
	}
	switch {
	case res.AnswerBox.Answer != "":
		return res.AnswerBox.Answer, nil
	case res.AnswerBox.Snippet != "":
		return res.AnswerBox.Snippet, nil
	case len(res.AnswerBox.Highlighted) > 0:
		return res.AnswerBox.Highlighted[0], nil
	case res.SportsResults.GameSpotlight != "":
		return res.SportsResults.GameSpotlight, nil
	case res.KnowledgeGraph.Description != "":
		return res.KnowledgeGraph.Description, nil
	case len(res.Organic) > 0 && res.Organic[0].Snippet != "":
		return res.Organic[0].Snippet, nil
	}
	return "No good search result found", nil
}
