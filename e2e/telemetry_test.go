package e2e

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/internal/testkit/otlpsink"
)

// withTelemetry sets the process's telemetry from env, read as the environment would be.
func withTelemetry(t *testing.T, env map[string]string) func(*config.Config) {
	return func(c *config.Config) {
		var err error
		c.Telemetry, err = telemetry.ConfigFromEnv(func(name string) string { return env[name] })
		require.NoError(t, err)
	}
}

// scrape reads GET /api/v1/metrics with the harness's key, parsed.
func (h *harness) scrape() map[string]*dto.MetricFamily {
	h.t.Helper()
	status, body := h.do("GET", "/api/v1/metrics", nil)
	require.Equal(h.t, http.StatusOK, status, string(body))
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(h.t, err)
	return families
}

// sample is the series of family name whose labels include want, or nil.
func sample(families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// counterValue is the value of a counter (or gauge) series; -1 when there is none.
func counterValue(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	m := sample(families, name, want)
	switch {
	case m == nil:
		return -1
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return -1
}

// TestMetricsAfterPredictions: with ENABLE_METRICS=true the API serves Prometheus series
// holding, after a few predictions, Flowise's prediction counter by flow, status and mode, the
// latency histogram, the tokens the mock reported, a node's failure and retry, a rate-limit
// refusal, and the Temporal SDK's own series, on the same registry and behind the API key.
func TestMetricsAfterPredictions(t *testing.T) {
	h := newHarness(t, withTelemetry(t, map[string]string{"ENABLE_METRICS": "true", "METRICS_INCLUDE_NODE_METRICS": "false"}))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-metrics"})
	flowID := h.createFlow("metrics", h.loadFlow("llm-chain.json", cred), nil)
	limited := h.createFlow("limited", h.loadFlow("llm-chain.json", cred), map[string]any{
		"apiConfig": limitConfig(true, 1, 3600, "slow down")})

	for range 2 {
		require.Contains(t, h.predict(flowID, map[string]any{"question": "hello"}).Text, "hello")
	}
	resp, _ := h.stream(flowID, map[string]any{"question": "hello", "streaming": true})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// The model fails once: the chain's node fails, is retried, and the prediction succeeds.
	h.mock.FailNext(1, http.StatusInternalServerError)
	h.predict(flowID, map[string]any{"question": "hello"})
	// A flow that cannot run fails before any run starts: counted as a failure, as Flowise
	// counts any error of a prediction.
	broken := h.createFlow("broken", `{"nodes":[{"id":"mystery_0","data":{"id":"mystery_0","name":"noSuchNode","category":"Chains"}}],"edges":[]}`, nil)
	status, body := h.do("POST", "/api/v1/prediction/"+broken, map[string]any{"question": "hello"})
	require.GreaterOrEqual(t, status, 400, string(body))
	// A document store upsert counts in Flowise's vector_upserted.
	var store struct{ ID string }
	h.doJSON("POST", "/api/v1/document-store/store", map[string]any{"name": "Counted"}, 200, &store)
	h.doJSON("POST", "/api/v1/document-store/upsert/"+store.ID, map[string]any{
		"loader":    map[string]any{"name": "plainText", "config": map[string]any{"text": "Metrics count upserts."}},
		"embedding": map[string]any{"name": "openAIEmbeddings", "config": map[string]any{"credential": cred, "basepath": h.mock.URL + "/v1"}},
	}, 200, nil)
	// The second call of the limited flow is refused.
	require.Equal(t, http.StatusOK, h.predictFrom(limited, "").status)
	require.Equal(t, http.StatusTooManyRequests, h.predictFrom(limited, "").status)

	// Flowise answers the metrics route only with a key.
	req, err := http.NewRequest("GET", h.base+"/api/v1/metrics", nil)
	require.NoError(t, err)
	noKey, err := httpClient.Do(req)
	require.NoError(t, err)
	noKey.Body.Close()
	require.Equal(t, http.StatusUnauthorized, noKey.StatusCode)

	m := h.scrape()
	app := "FlowiseAI" // METRICS_SERVICE_NAME's default, on every series
	require.Equal(t, 3.0, counterValue(m, "chatflow_prediction_external",
		map[string]string{"app": app, "chatflowid": flowID, "status": "success", "streaming": "false"}))
	require.Equal(t, 1.0, counterValue(m, "chatflow_prediction_external",
		map[string]string{"chatflowid": flowID, "status": "success", "streaming": "true"}))
	require.Equal(t, 1.0, counterValue(m, "chatflow_prediction_external", map[string]string{"chatflowid": limited, "status": "success"}))
	require.Equal(t, 1.0, counterValue(m, "chatflow_prediction_external", map[string]string{"chatflowid": broken, "status": "failure"}))
	require.Equal(t, 3.0, counterValue(m, "chatflow_created", map[string]string{"status": "success"}))
	require.Equal(t, 1.0, counterValue(m, "vector_upserted", map[string]string{"status": "success"}))

	latency := sample(m, "flowgate_prediction_duration_seconds", map[string]string{"type": "chatflow", "status": "success", "streaming": "false"})
	require.NotNil(t, latency)
	require.EqualValues(t, 4, latency.GetHistogram().GetSampleCount())
	require.Positive(t, latency.GetHistogram().GetSampleSum())

	// Five model calls answered (the failed one reported no usage); the mock counts words.
	first := h.mock.Requests()[0]
	prompt := 0
	for _, msg := range first.Messages {
		prompt += llmmock.CountTokens(msg.Content)
	}
	completion := llmmock.CountTokens(llmmock.Answer(first.Messages[len(first.Messages)-1].Content))
	require.Equal(t, float64(5*prompt), counterValue(m, "flowgate_llm_tokens_total", map[string]string{"provider": "chatOpenAI", "type": "prompt"}))
	require.Equal(t, float64(5*completion), counterValue(m, "flowgate_llm_tokens_total", map[string]string{"provider": "chatOpenAI", "type": "completion"}))

	require.Equal(t, 1.0, counterValue(m, "flowgate_node_failures_total", map[string]string{"kind": "llmChain", "retryable": "true"}))
	require.Equal(t, 1.0, counterValue(m, "flowgate_node_retries_total", map[string]string{"kind": "llmChain"}))
	require.Equal(t, 1.0, counterValue(m, "flowgate_rate_limit_refusals_total", map[string]string{"chatflowid": limited}))
	// A wait ends a moment after its answer is written: the gauge comes back to 0.
	require.Eventually(t, func() bool { return counterValue(h.scrape(), "flowgate_stream_subscribers", nil) == 0 },
		10*time.Second, 50*time.Millisecond, "every wait has ended")
	require.Positive(t, counterValue(m, "http_requests_total", map[string]string{"method": "POST", "path": "/api/v1/prediction/:id", "status": "200"}))

	// The Temporal SDK's client and worker series share the registry.
	require.Positive(t, counterValue(m, "temporal_request", map[string]string{"app": app}))
	task := sample(m, "temporal_workflow_task_execution_latency", map[string]string{"workflow_type": "prediction"})
	require.NotNil(t, task, "the worker's workflow task latency")
	require.Positive(t, task.GetHistogram().GetSampleCount())
}

// attr is a span attribute's value as text ("" when absent).
func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return anyText(kv.GetValue())
		}
	}
	return ""
}

func anyText(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_BoolValue:
		if x.BoolValue {
			return "true"
		}
		return "false"
	}
	return v.String()
}

// TestTraceOfOnePrediction: a prediction's trace, received by an OTLP receiver, is one trace
// from the API's span through the Temporal workflow to one span per node and the provider
// call, carrying the flow's, chat's and node's ids and the token counts, and no prompt text
// or credential.
func TestTraceOfOnePrediction(t *testing.T) {
	sink := otlpsink.Start(t)
	h := newHarness(t, withTelemetry(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": sink.Endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_SERVICE_NAME": "flowgate-e2e"}))
	const secret = "sk-trace-credential-4711"
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": secret})
	flowID := h.createFlow("traced", h.loadFlow("llm-chain.json", cred), nil)
	const question = "zebra-question-0815 about my private matters"
	ans := h.predict(flowID, map[string]any{"question": question, "chatId": "chat-traced-1"})
	require.Contains(t, ans.Text, question)
	h.stop() // sends the spans still batched

	spans := sink.Spans()
	byName := map[string][]*tracepb.Span{}
	for _, s := range spans {
		byName[s.GetName()] = append(byName[s.GetName()], s)
	}
	names := func() []string {
		var out []string
		for n := range byName {
			out = append(out, n)
		}
		return out
	}
	apiSpans := byName["POST /api/v1/prediction/:id"]
	require.Len(t, apiSpans, 1, "spans: %v", names())
	root := apiSpans[0]
	require.Equal(t, flowID, attr(root, "flowise.chatflow.id"))
	require.Equal(t, "chat-traced-1", attr(root, "flowise.chat.id"))
	require.Equal(t, "200", attr(root, "http.response.status_code"))
	traceID := hex.EncodeToString(root.GetTraceId())

	require.Len(t, byName["RunWorkflow:prediction"], 1, "spans: %v", names())
	for _, n := range []struct{ id, kind string }{{"chatOpenAI_0", "chatOpenAI"}, {"promptTemplate_0", "promptTemplate"}, {"llmChain_0", "llmChain"}} {
		got := byName["RunActivity:node."+n.kind]
		require.Len(t, got, 1, "node %s; spans: %v", n.id, names())
		require.Equal(t, n.id, attr(got[0], "flowise.node.id"))
		require.Equal(t, n.kind, attr(got[0], "flowise.node.kind"))
		require.Equal(t, flowID, attr(got[0], "flowise.chatflow.id"))
		require.Equal(t, "chat-traced-1", attr(got[0], "flowise.chat.id"))
	}
	var call *tracepb.Span
	for _, s := range spans {
		if strings.HasPrefix(s.GetName(), "chat ") {
			call = s
		}
	}
	require.NotNil(t, call, "the provider call's span; spans: %v", names())
	require.Equal(t, "chatOpenAI", attr(call, "gen_ai.system"))
	require.NotEmpty(t, attr(call, "gen_ai.request.model"))
	sent := h.mock.Requests()[0].Messages
	require.Equal(t, strconv.Itoa(llmmock.CountTokens(llmmock.Answer(sent[len(sent)-1].Content))), attr(call, "gen_ai.usage.output_tokens"))
	require.NotEqual(t, "0", attr(call, "gen_ai.usage.input_tokens"))
	require.Equal(t, attr(call, "gen_ai.usage.output_tokens"), attr(byName["RunActivity:node.llmChain"][0], "gen_ai.usage.output_tokens"))

	for _, s := range spans {
		require.Equal(t, traceID, hex.EncodeToString(s.GetTraceId()), "span %s is in another trace", s.GetName())
		dump := s.String()
		require.NotContains(t, dump, "zebra-question-0815", "span %s carries the prompt", s.GetName())
		require.NotContains(t, dump, secret, "span %s carries the credential", s.GetName())
	}

	// The operator's switch puts the content on the node's span (sent this time over OTLP/HTTP,
	// the protocol OpenTelemetry defaults to).
	capture := otlpsink.Start(t)
	h = newHarness(t, withTelemetry(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": capture.HTTPEndpoint,
		"FLOWGATE_OTEL_CAPTURE_CONTENT": "true"}))
	cred = h.createCredential("openAIApi", map[string]any{"openAIApiKey": secret})
	flowID = h.createFlow("captured", h.loadFlow("llm-chain.json", cred), nil)
	h.predict(flowID, map[string]any{"question": question})
	h.stop()
	var captured *tracepb.Span
	for _, s := range capture.Spans() {
		if s.GetName() == "RunActivity:node.llmChain" {
			captured = s
		}
	}
	require.NotNil(t, captured)
	require.Contains(t, attr(captured, "gen_ai.prompt"), question)
	require.Contains(t, attr(captured, "gen_ai.completion"), question)
	require.NotContains(t, captured.String(), secret)
}

// TestMetricsThroughOTLP: METRICS_PROVIDER=open_telemetry pushes the same series, the Temporal
// SDK's included, to an OTLP receiver over Flowise's default protocol (OTLP/HTTP), and the
// Prometheus route says metrics are not served there.
func TestMetricsThroughOTLP(t *testing.T) {
	sink := otlpsink.Start(t)
	h := newHarness(t, withTelemetry(t, map[string]string{"ENABLE_METRICS": "true", "METRICS_PROVIDER": "open_telemetry",
		"METRICS_OPEN_TELEMETRY_METRIC_ENDPOINT": sink.HTTPEndpoint + "/v1/metrics"}))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-otlp"})
	flowID := h.createFlow("otlp", h.loadFlow("llm-chain.json", cred), nil)
	h.predict(flowID, map[string]any{"question": "hello"})
	status, body := h.do("GET", "/api/v1/metrics", nil)
	requireFlowiseError(t, status, body, http.StatusNotFound, "ENABLE_METRICS")
	h.stop() // the last export

	var predictions float64
	temporal := false
	for _, m := range sink.Metrics() {
		if strings.HasPrefix(m.GetName(), "temporal_") {
			temporal = true
		}
		if m.GetName() != "chatflow_prediction_external" {
			continue
		}
		for _, dp := range m.GetSum().GetDataPoints() {
			for _, kv := range dp.GetAttributes() {
				if kv.GetKey() == "chatflowid" && kv.GetValue().GetStringValue() == flowID {
					predictions = float64(dp.GetAsInt()) // cumulative: the last export's value
				}
			}
		}
	}
	require.Equal(t, 1.0, predictions)
	require.True(t, temporal, "the Temporal SDK's series")
}

// TestQueueModeMetricsPerProcess: in queue mode each process exposes its own series. The API
// counts the prediction; the worker, scraped on WORKER_PORT's /metrics, ran its nodes: their
// tokens and the SDK's worker series are there.
func TestQueueModeMetricsPerProcess(t *testing.T) {
	cfg := postgresConfig(t)
	withTelemetry(t, map[string]string{"ENABLE_METRICS": "true"})(&cfg)
	workerCfg := cfg
	workerCfg.WorkerPort = 0 // a free port
	worker := startTier(t, workerCfg, app.Options{Worker: true})
	api := &harness{t: t, base: "http://" + startTier(t, cfg, app.Options{API: true}).Addr(), mock: llmmock.NewTestServer(t, llmmock.Options{}), key: testKey}
	cred := api.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-queue-metrics"})
	flowID := api.createFlow("queue metrics", api.loadFlow("llm-chain.json", cred), nil)
	api.predict(flowID, map[string]any{"question": "hi"})

	fromAPI := api.scrape()
	require.Equal(t, 1.0, counterValue(fromAPI, "chatflow_prediction_external", map[string]string{"chatflowid": flowID, "status": "success"}))
	require.Equal(t, -1.0, counterValue(fromAPI, "flowgate_llm_tokens_total", map[string]string{"type": "completion"}), "the API runs no node")

	resp, err := httpClient.Get("http://" + worker.Addr() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var p expfmt.TextParser
	fromWorker, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	require.Positive(t, counterValue(fromWorker, "flowgate_llm_tokens_total", map[string]string{"type": "completion"}))
	require.Equal(t, -1.0, counterValue(fromWorker, "chatflow_prediction_external", map[string]string{"chatflowid": flowID}))
	require.NotNil(t, sample(fromWorker, "temporal_workflow_task_execution_latency", map[string]string{"workflow_type": "prediction"}))
}

// TestAgentflowTelemetry: an agentflow (v2) prediction counts in chatflow_prediction_external,
// as Flowise counts AGENTFLOW predictions (its agentflow_prediction_* are MULTIAGENT's), and
// its nodes' spans (regular and local activities) name the flow, the chat and the node, in the
// API span's trace.
func TestAgentflowTelemetry(t *testing.T) {
	sink := otlpsink.Start(t)
	h := newHarness(t, withTelemetry(t, map[string]string{"ENABLE_METRICS": "true",
		"OTEL_EXPORTER_OTLP_ENDPOINT": sink.Endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}))
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-agentflow-telemetry"})
	flowID := approvalFlow(t, h, cred)
	_, events := h.stream(flowID, map[string]any{"question": "refund please", "chatId": "agentflow-traced"})
	require.Contains(t, eventNames(events), "metadata")
	m := h.scrape()
	require.Equal(t, 1.0, counterValue(m, "chatflow_prediction_external",
		map[string]string{"chatflowid": flowID, "status": "success", "streaming": "true"}))
	require.Nil(t, m["agentflow_prediction_external"])
	h.stop()

	spans := sink.Spans()
	var api *tracepb.Span
	for _, s := range spans {
		if s.GetName() == "POST /api/v1/prediction/:id" {
			require.Nil(t, api, "one API span")
			api = s
		}
	}
	require.NotNil(t, api)
	nodeIDs := map[string]bool{}
	for _, s := range spans {
		if strings.HasPrefix(s.GetName(), "RunActivity:node.") {
			nodeIDs[attr(s, "flowise.node.id")] = true
			require.Equal(t, flowID, attr(s, "flowise.chatflow.id"), s.GetName())
			require.Equal(t, "agentflow-traced", attr(s, "flowise.chat.id"), s.GetName())
			require.Equal(t, api.GetTraceId(), s.GetTraceId(), "span %s is in another trace", s.GetName())
		}
	}
	// The run stops at the human input node: the model's node ran, and no span names a
	// node the flow does not have.
	require.True(t, nodeIDs["llmAgentflow_0"], "node spans: %v", nodeIDs)
	for id := range nodeIDs {
		require.Contains(t, []string{"startAgentflow_0", "llmAgentflow_0", "humanInputAgentflow_0", "directReplyAgentflow_0", "loopAgentflow_0"}, id)
	}
}
