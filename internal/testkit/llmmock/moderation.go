package llmmock

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Flagged is what makes the mock's moderation endpoint flag an input: any text containing it,
// in any case.
const Flagged = "hateful"

// Flags reports whether the mock's moderation endpoint flags text.
func Flags(text string) bool { return strings.Contains(strings.ToLower(text), Flagged) }

// moderations serves OpenAI's POST /v1/moderations. Requests are recorded (Input) and FailNext
// applies, as for completions.
func (s *Server) moderations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Model string         `json:"model"`
			Input embeddingInput `json:"input"`
		}
		if err := decodeBody(r, &body); err != nil {
			openAIDialect{}.writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		req := Request{Path: r.URL.Path, Query: r.URL.Query(), Headers: r.Header.Clone(), Model: body.Model, Input: body.Input}
		if status := s.admit(req); status != 0 {
			openAIDialect{}.writeError(w, status, fmt.Sprintf("mock failure (status %d)", status))
			return
		}
		results := make([]map[string]any, len(body.Input))
		for i, text := range body.Input {
			flagged := Flags(text)
			results[i] = map[string]any{"flagged": flagged,
				"categories": map[string]bool{"hate": flagged}, "category_scores": map[string]float64{"hate": map[bool]float64{true: 0.99, false: 0.01}[flagged]}}
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": s.nextID("modr"), "model": "omni-moderation-latest", "results": results})
	})
}

// Canned answers to the prompts of Flowise's utility chains, so flows that use them run end
// to end: the similarity question of Simple Prompt Moderation (Yes when the first sentence
// contains the second), a format-instructed JSON answer, and a SQL query for a SQL chain.
var (
	similarPrompt = regexp.MustCompile(`(?s)^Are these two sentences similar to each other\? Only return Yes or No\.\nFirst sentence: (.*)\nSecond sentence: (.*)$`)
	schemaFence   = regexp.MustCompile("(?s)Here is the JSON Schema instance your output must adhere to\\. Include the enclosing markdown codeblock:\n```json\n(.*?)\n```")
	createTable   = regexp.MustCompile(`(?i)CREATE TABLE\s+["\x60]?(\w+)`)
)

// cannedAnswer is the mock's answer to one of those prompts, if msgs is one.
func cannedAnswer(msgs []Message) (string, bool) {
	last := lastUserContent(msgs)
	if m := similarPrompt.FindStringSubmatch(last); m != nil {
		if strings.Contains(strings.ToLower(m[1]), strings.ToLower(strings.TrimSpace(m[2]))) {
			return "Yes", true
		}
		return "No", true
	}
	if strings.HasSuffix(last, "\nSQLQuery:") {
		if m := createTable.FindStringSubmatch(last); m != nil {
			return " SELECT * FROM " + m[1], true
		}
	}
	for _, msg := range msgs {
		if m := schemaFence.FindStringSubmatch(msg.Content); m != nil {
			return "```json\n" + schemaAnswer([]byte(m[1]), last) + "\n```", true
		}
	}
	return "", false
}
