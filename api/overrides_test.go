package api

import (
	"net/http"
	"testing"

	"github.com/flowgate/flowgate/internal/testkit/fixture"
	"github.com/flowgate/flowgate/models"
)

// TestInvalidOverrideIs400: an overrideConfig value the node's input cannot take (a number
// input given "hot") is the caller's mistake, answered 400 before anything runs; it used to
// fail the run and answer 500.
func TestInvalidOverrideIs400(t *testing.T) {
	a := newTestAPI(t, "sqlite")
	apiConfig := `{"overrideConfig":{"status":true,"nodes":{"OpenAI":[{"name":"temperature","enabled":true},{"name":"streaming","enabled":true}]}}}`
	f := a.saveFlow(&models.ChatFlow{ID: "1a2b3c4d-0000-4000-8000-000000000501", Name: "chain",
		FlowData: string(fixture.Read(t, "flows", "llm-chain.json")), APIConfig: &apiConfig})
	for body, want := range map[string]string{
		`{"question":"hi","overrideConfig":{"temperature":"hot"}}`:                      `overrideConfig.temperature must be a number for node chatOpenAI_0 (OpenAI), got "hot"`,
		`{"question":"hi","overrideConfig":{"temperature":{"chatOpenAI_0":true}}}`:      `overrideConfig.temperature must be a number for node chatOpenAI_0 (OpenAI), got true`,
		`{"question":"hi","streaming":true,"overrideConfig":{"streaming":"sometimes"}}`: `overrideConfig.streaming must be a boolean for node chatOpenAI_0 (OpenAI), got "sometimes"`,
		`{"question":"hi","overrideConfig":{"sessionId":"s1","temperature":[0.1]}}`:     `overrideConfig.temperature must be a number`,
	} {
		resp := a.raw("POST", "/api/v1/prediction/"+f.ID, body)
		requireFlowiseError(t, resp.StatusCode, resp.body, http.StatusBadRequest, want)
	}
	a.logs.requireNoErrors(t)
}
