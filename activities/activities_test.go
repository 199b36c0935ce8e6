package activities_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/flowgate/flowgate/activities"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/testkit/fixture"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

const testAPIKey = "sk-test-4d1c6b0e9f"

// actEnv is every activity over a real SQLite store, a real cipher and the in-process broker,
// registered (through Register) in a TestActivityEnvironment.
type actEnv struct {
	store  *models.Store
	cipher *secrets.Cipher
	broker *stream.Local
	files  *storage.Local
	env    *testsuite.TestActivityEnvironment
}

func newFixture(t *testing.T) *actEnv {
	t.Helper()
	ctx := context.Background()
	db, err := models.Open(ctx, models.DBConfig{Type: "sqlite", Path: t.TempDir()})
	require.NoError(t, err)
	sqlDB, err := db.DB()
	require.NoError(t, err)
	t.Cleanup(func() { _ = sqlDB.Close() })

	files, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = files.Close() })

	f := &actEnv{
		store:  models.NewStore(db),
		cipher: secrets.NewCipher(secrets.NewKey("pass", "test")),
		broker: stream.NewLocal(),
		files:  files,
	}
	var suite testsuite.WorkflowTestSuite
	f.env = suite.NewTestActivityEnvironment()
	require.NoError(t, activities.Register(f.env, &activities.Deps{Store: f.store, Cipher: f.cipher, Stream: f.broker, Files: files, Logger: slog.New(slog.DiscardHandler)}))
	return f
}

// credential stores an encrypted openAIApi credential and returns its id.
func (f *actEnv) credential(t *testing.T, id, key string) string {
	t.Helper()
	enc, err := f.cipher.Encrypt(map[string]any{"openAIApiKey": key})
	require.NoError(t, err)
	require.NoError(t, f.store.CreateCredential(context.Background(), &models.Credential{
		ID: id, Name: "test key", CredentialName: "openAIApi", EncryptedData: enc,
	}))
	return id
}

// run executes the activity registered for a node kind and decodes its result.
func (f *actEnv) run(t *testing.T, req node.Request) (node.Value, error) {
	t.Helper()
	val, err := f.env.ExecuteActivity(node.ActivityName(req.Node.Data.Name), req)
	if err != nil {
		return node.Value{}, err
	}
	var out node.Value
	require.NoError(t, val.Get(&out))
	return out, nil
}

func (f *actEnv) save(t *testing.T, req node.SaveMessagesRequest) {
	t.Helper()
	_, err := f.env.ExecuteActivity(node.SaveMessagesActivity, req)
	require.NoError(t, err)
}

// flowNode returns a node of one of the shared Flowise exports, with its inputs copied so a test
// can change them.
func flowNode(t *testing.T, file, id string) chatflow.Node {
	t.Helper()
	raw := fixture.Read(t, "flows", file)
	g, err := chatflow.Parse(string(raw))
	require.NoError(t, err)
	for _, n := range g.Nodes {
		if n.ID == id {
			inputs := make(map[string]any, len(n.Data.Inputs))
			for k, v := range n.Data.Inputs {
				inputs[k] = v
			}
			n.Data.Inputs = inputs
			return n
		}
	}
	t.Fatalf("%s has no node %s", file, id)
	return chatflow.Node{}
}

// openAINode is the chatOpenAI node of llm-chain.json pointed at baseURL with credential credID.
func openAINode(t *testing.T, baseURL, credID string) chatflow.Node {
	n := flowNode(t, "llm-chain.json", "chatOpenAI_0")
	n.Data.Credential = credID
	n.Data.Inputs["credential"] = credID
	n.Data.Inputs["basepath"] = baseURL
	return n
}

func requireAppError(t *testing.T, err error, typ string, nonRetryable bool) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app, "want an ApplicationError, got %T: %v", err, err)
	require.Equal(t, typ, app.Type(), "error: %v", err)
	require.Equal(t, nonRetryable, app.NonRetryable(), "error: %v", err)
	return app
}

// registry records what Register registers.
type registry struct {
	names []string
	fns   map[string]any
}

func (r *registry) RegisterActivity(a any) {
	r.RegisterActivityWithOptions(a, activity.RegisterOptions{})
}

func (r *registry) RegisterActivityWithOptions(a any, o activity.RegisterOptions) {
	r.names = append(r.names, o.Name)
	r.fns[o.Name] = a
}

func (r *registry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {
	r.names = append(r.names, "<dynamic>")
}

// Register reads the kinds table: one activity per kind, each once, under the name its family
// gives it, with the shape the workflow that calls it sends and decodes; plus the message save
// and the document-store upsert and search.
func TestRegisterRegistersEveryKindOfTheTable(t *testing.T) {
	r := &registry{fns: map[string]any{}}
	require.NoError(t, activities.Register(r, &activities.Deps{}))

	shapes := map[node.Family]reflect.Type{
		node.ChatModel: reflect.TypeFor[func(context.Context, node.Request) (node.Value, error)](),
		node.ChatNode:  reflect.TypeFor[func(context.Context, node.Request) (node.Value, error)](),
		node.AgentStep: reflect.TypeFor[func(context.Context, node.StepRequest) (node.StepResult, error)](),
		node.Tool:      reflect.TypeFor[func(context.Context, node.ToolRequest) (string, error)](),
		node.FlowTool:  reflect.TypeFor[func(context.Context, node.ToolRequest) (node.ChildFlow, error)](),
	}
	want := []string{node.SaveMessagesActivity, node.UpsertActivity, node.QueryActivity}
	for _, k := range node.Kinds() {
		name := node.ActivityName(k.Name)
		if k.Family == node.Tool || k.Family == node.FlowTool {
			name = node.ToolActivityName(k.Name)
		}
		if k.Run == "" {
			require.NotContains(t, r.fns, name, "%s runs in the workflow", k.Name)
			continue
		}
		want = append(want, name)
		got := reflect.TypeOf(r.fns[name])
		require.NotNil(t, got, k.Name)
		require.True(t, got.ConvertibleTo(shapes[k.Family]), "%s is registered as %v", k.Name, got)
	}
	sort.Strings(want)
	got := append([]string(nil), r.names...)
	sort.Strings(got)
	require.Equal(t, want, got)
	saveFn := reflect.TypeFor[func(context.Context, node.SaveMessagesRequest) error]()
	require.True(t, reflect.TypeOf(r.fns[node.SaveMessagesActivity]).ConvertibleTo(saveFn))
}

func TestChatModelHandsOnSettingsAndCredentialIDNeverTheKey(t *testing.T) {
	f := newFixture(t)
	credID := f.credential(t, "c4087aa4-ffc0-445a-ab99-090fe4f5bc0f", testAPIKey)
	n := openAINode(t, "http://127.0.0.1:8089/v1", credID)
	n.Data.Inputs["maxTokens"] = "256"
	n.Data.Inputs["stopSequence"] = "END, STOP"

	val, err := f.env.ExecuteActivity(node.ActivityName("chatOpenAI"), node.Request{Node: n})
	require.NoError(t, err)
	var raw json.RawMessage
	require.NoError(t, val.Get(&raw))
	require.NotContains(t, string(raw), testAPIKey, "the activity result goes into workflow history")
	var out node.Value
	require.NoError(t, json.Unmarshal(raw, &out))

	require.Equal(t, "chatOpenAI", out.Kind)
	require.NotNil(t, out.Model)
	require.Equal(t, "chatOpenAI", out.Model.Provider)
	require.Equal(t, credID, out.Model.CredentialID)
	require.True(t, out.Model.Streaming)
	var cfg struct {
		Provider    string   `json:"provider"`
		Model       string   `json:"model"`
		Temperature *float64 `json:"temperature"`
		MaxTokens   int      `json:"maxTokens"`
		BaseURL     string   `json:"baseURL"`
		Stop        []string `json:"stop"`
	}
	require.NoError(t, json.Unmarshal(out.Model.Config, &cfg))
	require.Equal(t, "chatOpenAI", cfg.Provider)
	require.Equal(t, "gpt-4o-mini", cfg.Model)
	require.NotNil(t, cfg.Temperature)
	require.InDelta(t, 0.9, *cfg.Temperature, 1e-9)
	require.Equal(t, 256, cfg.MaxTokens)
	require.Equal(t, "http://127.0.0.1:8089/v1", cfg.BaseURL)
	require.Equal(t, []string{"END", "STOP"}, cfg.Stop)
}

func TestChatModelStreamingOff(t *testing.T) {
	f := newFixture(t)
	n := openAINode(t, "http://127.0.0.1:8089/v1", f.credential(t, "cred-1", testAPIKey))
	n.Data.Inputs["streaming"] = false
	out, err := f.run(t, node.Request{Node: n})
	require.NoError(t, err)
	require.False(t, out.Model.Streaming)
}

// A chat-model node hands on the id of its credential without reading it: the node that calls
// the model reads it once and reports it missing (TestLLMChainCredentialErrors).
func TestChatModelNamesItsCredential(t *testing.T) {
	f := newFixture(t)
	n := openAINode(t, "http://127.0.0.1:8089/v1", "no-such-credential")
	out, err := f.run(t, node.Request{Node: n})
	require.NoError(t, err)
	require.Equal(t, "no-such-credential", out.Model.CredentialID)

	// No credential picked at all is a flow mistake.
	n = openAINode(t, "http://127.0.0.1:8089/v1", "")
	_, err = f.run(t, node.Request{Node: n})
	requireAppError(t, err, node.ErrFlow, true)
}

func TestChatModelBadTemperature(t *testing.T) {
	for name, temp := range map[string]any{"not a number": "warm", "negative": -1.0} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			n := openAINode(t, "http://127.0.0.1:8089/v1", f.credential(t, "cred-1", testAPIKey))
			n.Data.Inputs["temperature"] = temp
			_, err := f.run(t, node.Request{Node: n})
			app := requireAppError(t, err, node.ErrFlow, true)
			require.Contains(t, app.Message(), "chatOpenAI_0")
			require.Contains(t, app.Message(), "temperature")
		})
	}
}

func TestPromptTemplateResolvesPromptValues(t *testing.T) {
	f := newFixture(t)
	n := flowNode(t, "llm-chain.json", "promptTemplate_0")
	n.Data.Inputs["template"] = "Write about {topic} for {who} in a {tone} tone"
	n.Data.Inputs["promptValues"] = `{"who":"{{question}}","topic":"{{llmChain_1.data.instance}}","tone":"{{$vars.tone}}","session":"{{$flow.sessionId}}","literal":"plain"}`

	out, err := f.run(t, node.Request{
		Node:     n,
		Upstream: map[string]node.Value{"llmChain_1": node.TextValue("llmChain", "black holes")},
		Run:      node.Run{Question: "a child", SessionID: "s-9", Vars: map[string]string{"tone": "cheerful"}},
	})
	require.NoError(t, err)
	require.Equal(t, "promptTemplate", out.Kind)
	require.Equal(t, &node.Prompt{
		Template: "Write about {topic} for {who} in a {tone} tone",
		Values: map[string]string{
			"who": "a child", "topic": "black holes", "tone": "cheerful", "session": "s-9", "literal": "plain",
		},
	}, out.Prompt)
}

func TestPromptTemplateErrors(t *testing.T) {
	f := newFixture(t)
	n := flowNode(t, "llm-chain.json", "promptTemplate_0")
	n.Data.Inputs["template"] = ""
	_, err := f.run(t, node.Request{Node: n})
	requireAppError(t, err, node.ErrFlow, true)

	n = flowNode(t, "llm-chain.json", "promptTemplate_0")
	n.Data.Inputs["promptValues"] = `{"broken"`
	_, err = f.run(t, node.Request{Node: n})
	requireAppError(t, err, node.ErrFlow, true)
}
