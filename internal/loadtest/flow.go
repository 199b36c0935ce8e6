package loadtest

import (
	_ "embed"
	"fmt"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// llmChain is testdata/flows/llm-chain.json as exported from Flowise (ChatOpenAI, Prompt
// Template, LLM Chain): the flow every figure in docs/benchmarks.md and docs/load-testing.md
// was measured with. A copy lives here so the binary can set up a benchmark on its own.
//
//go:embed flows/llm-chain.json
var llmChain []byte

// LLMChainFlow returns the benchmark flow's flowData with its chat model using credentialID
// and talking to the OpenAI-compatible server at modelURL (its root; "/v1" is appended as the
// OpenAI SDK expects): the only edits a Flowise user would make to run it elsewhere.
func LLMChainFlow(modelURL, credentialID string) (string, error) {
	flowData, models, err := llmmock.PointFlow(llmChain, modelURL, credentialID)
	if err != nil {
		return "", fmt.Errorf("the embedded llm-chain.json: %w", err)
	}
	if models != 1 {
		return "", fmt.Errorf("the embedded flow has %d chat models, want 1", models)
	}
	return flowData, nil
}
