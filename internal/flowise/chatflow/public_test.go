package chatflow_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/chatflow"
)

// TestPublicFlowData: what a public route shows of a flow keeps everything but secrets: the
// credential, password, file and folder inputs, and credential headers in each form a headers
// input takes.
func TestPublicFlowData(t *testing.T) {
	in := `{"nodes":[{"id":"a","data":{"name":"chatOpenAI","credential":"cred-1","inputs":{
		"modelName":"gpt-4o","temperature":0.90000000000000002,"openAIApiKey":"sk-secret","pdf":"FILE-STORAGE::x.pdf","credential":"cred-1",
		"headers":[{"key":"Authorization","value":"Bearer t"},{"key":"X-Trace","value":"1"}]},
		"inputParams":[{"name":"openAIApiKey","type":"password"},{"name":"pdf","type":"file"},{"name":"modelName","type":"options"}]}},
	{"id":"b","data":{"inputs":{"headers":"{\"x-api-key\":\"k\",\"Accept\":\"text/html\"}"}}},
	{"id":"c","data":{"inputs":{"headers":{"Cookie":"c=1","Accept":"*/*"}}}},
	{"id":"d","data":{"inputs":{"headers":"not json"}}},
	{"id":"f","data":{"inputs":{"agentModelConfig":{"credential":"cred-2","FLOWISE_CREDENTIAL_ID":"cred-2","model":"m"},"list":[{"credential":"cred-3"}]}}},
	{"id":"e"}],"edges":[],"viewport":{"x":1}}`
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(chatflow.PublicFlowData(in)), &got))
	nodes := got["nodes"].([]any)
	data := func(i int) map[string]any { return nodes[i].(map[string]any)["data"].(map[string]any) }
	require.NotContains(t, data(0), "credential")
	require.Equal(t, map[string]any{"modelName": "gpt-4o", "temperature": 0.9,
		"headers": []any{map[string]any{"key": "X-Trace", "value": "1"}}}, data(0)["inputs"])
	require.JSONEq(t, `{"Accept":"text/html"}`, data(1)["inputs"].(map[string]any)["headers"].(string))
	require.Equal(t, map[string]any{"Accept": "*/*"}, data(2)["inputs"].(map[string]any)["headers"])
	require.Equal(t, map[string]any{}, data(3)["inputs"])
	require.Equal(t, map[string]any{"agentModelConfig": map[string]any{"model": "m"}, "list": []any{map[string]any{}}}, data(4)["inputs"])
	require.Equal(t, map[string]any{"x": 1.0}, got["viewport"])

	require.Equal(t, `{"nodes":[],"edges":[]}`, chatflow.PublicFlowData("{nodes"))
	require.Equal(t, `{"a":1}`, chatflow.PublicFlowData(`{"a":1}`))
	require.Equal(t, "", chatflow.PublicFlowData(""))
}
