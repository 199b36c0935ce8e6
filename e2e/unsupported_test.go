package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/fixture"
)

// A flow with nodes Flowgate cannot run saves, as in Flowise, and says at once which nodes and
// kinds will not run; its predictions name every one of them.
func TestSavingAFlowReportsWhatWillNotRun(t *testing.T) {
	h := newHarness(t)
	type saved struct {
		ID               string `json:"id"`
		UnsupportedNodes []struct {
			NodeID, Kind, Reason string
			Runs                 bool
		} `json:"unsupportedNodes"`
		UnsupportedKinds []string `json:"unsupportedKinds"`
	}
	// Replicate's model and a Pinecone store: services outside this machine.
	flowData := string(fixture.Read(t, "flows", "marketplace", "chatflows", "Image Generation.json"))
	var got saved
	h.doJSON("POST", "/api/v1/chatflows", map[string]any{"name": "images", "flowData": flowData}, 200, &got)
	require.NotEmpty(t, got.ID, "the flow is saved")
	require.Equal(t, []string{"replicate"}, got.UnsupportedKinds)
	require.Len(t, got.UnsupportedNodes, 1)
	require.Equal(t, "replicate_0", got.UnsupportedNodes[0].NodeID)
	require.NotEmpty(t, got.UnsupportedNodes[0].Reason)

	status, body := h.do("POST", "/api/v1/prediction/"+got.ID, map[string]any{"question": "a cat"})
	requireFlowiseError(t, status, body, 500, "replicate_0 (replicate)")

	// A flow every node of which runs carries no such lists, on create and on update.
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-x"})
	var clean map[string]any
	h.doJSON("POST", "/api/v1/chatflows", map[string]any{"name": "chain", "flowData": h.loadFlow("llm-chain.json", cred)}, 200, &clean)
	require.NotContains(t, clean, "unsupportedNodes")
	require.NotContains(t, clean, "unsupportedKinds")
	h.doJSON("PUT", "/api/v1/chatflows/"+clean["id"].(string), map[string]any{"flowData": flowData}, 200, &got)
	require.Equal(t, []string{"replicate"}, got.UnsupportedKinds, "an update reports too")
}

// `flowgate check` tells, before any import, which nodes of exported flows run.
func TestFlowgateCheck(t *testing.T) {
	bin := buildFlowgate(t)
	dir := fixture.Path("flows", "marketplace", "chatflows")

	out, err := exec.Command(bin, "check", dir+"/Tool Agent.json", dir+"/Conversation Chain.json").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "Tool Agent.json: chatflow, every node runs")
	require.Regexp(t, `toolAgent_0\s+toolAgent\s+runs`, string(out))
	require.NotContains(t, string(out), "stickyNote")

	out, err = exec.Command(bin, "check", dir+"/LLM Chain.json", dir+"/Query Engine.json").CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	require.Equal(t, 1, exit.ExitCode())
	text := string(out)
	require.Contains(t, text, "LLM Chain.json: chatflow, every node runs")
	require.Contains(t, text, "Query Engine.json: chatflow, 5 of 5 nodes would not run")
	require.Regexp(t, `queryEngine_0\s+queryEngine\s+does not run: `, text)
	require.Equal(t, 1, strings.Count(text, "some nodes would not run"))

	agentflow := fixture.Path("flows", "marketplace", "agentflowsv2", "Translator.json")
	out, err = exec.Command(bin, "check", agentflow).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "Translator.json: agentflow, every node runs")
}
