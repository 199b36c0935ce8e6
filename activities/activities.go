// Package activities implements flow nodes as Temporal activities, one activity type per node
// kind, plus the I/O the prediction workflow needs (saving messages). Credentials are decrypted
// here, inside the activity that calls the provider, and never leave it.
package activities

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Activities holds what node implementations need.
type Activities struct {
	Store  *models.Store
	Cipher *secrets.Cipher
	Stream stream.Publisher
	Logger *slog.Logger
	// Files is where uploads are; the API stores them, any worker reads them.
	Files storage.Store
	// HTTP is the client of nodes and tools that call out; it refuses private, loopback and
	// metadata addresses unless configured otherwise (netguard).
	HTTP *http.Client
}

type nodeFunc func(context.Context, node.Request) (node.Value, error)

// nodes maps every node kind to its implementation.
func (a *Activities) nodes() map[string]nodeFunc {
	return map[string]nodeFunc{
		"chatOpenAI":             a.chatModel,
		"azureChatOpenAI":        a.chatModel,
		"chatAnthropic":          a.chatModel,
		"chatOllama":             a.chatModel,
		"chatGoogleGenerativeAI": a.chatModel,
		"groqChat":               a.chatModel,
		"chatMistralAI":          a.chatModel,
		"promptTemplate":         a.promptTemplate,
		"chatPromptTemplate":     a.chatPromptTemplate,
		"bufferMemory":           a.bufferMemory,
		"bufferWindowMemory":     a.bufferMemory,
		"llmChain":               a.llmChain,
		"conversationChain":      a.conversationChain,
	}
}

// withGlobals resolves {{$vars.name}} and {{$flow.*}} in every string input before the node
// runs, as Flowise does for all nodes.
func withGlobals(fn nodeFunc) nodeFunc {
	return func(ctx context.Context, req node.Request) (node.Value, error) {
		v := vars(req)
		inputs := make(map[string]any, len(req.Node.Data.Inputs))
		for k, in := range req.Node.Data.Inputs {
			if s, ok := in.(string); ok {
				in = v.ResolveGlobals(s)
			}
			inputs[k] = in
		}
		req.Node.Data.Inputs = inputs
		return fn(ctx, req)
	}
}

// Register registers one activity per node kind, named node.<kind>, and the store activities.
func (a *Activities) Register(r worker.ActivityRegistry) {
	chatflowNodes := map[string]nodeFunc{}
	for k, fn := range a.nodes() {
		chatflowNodes[k] = withGlobals(fn)
	}
	registerKinds(r, chatflowNodes)
	steps := map[string]stepFunc{}
	for k, fn := range a.agentNodes() {
		steps[k] = keepAlive(a.withProgress(fn))
	}
	registerKinds(r, steps)
	// One activity per kind of tool, so the Temporal UI shows each call as tool.<kind>.
	for _, kind := range slices.Sorted(maps.Keys(a.toolKinds())) {
		r.RegisterActivityWithOptions(keepAlive(a.runTool), activity.RegisterOptions{Name: agentflow.ToolActivityName(kind)})
	}
	for _, kind := range []string{agentflow.ToolChatflow, agentflow.ToolAgent} {
		r.RegisterActivityWithOptions(keepAlive(a.flowTool), activity.RegisterOptions{Name: agentflow.ToolActivityName(kind)})
	}
	r.RegisterActivityWithOptions(a.SaveMessages, activity.RegisterOptions{Name: node.SaveMessagesActivity})
}

// keepAlive heartbeats while fn runs. Activities that call out run under a heartbeat timeout,
// so that a dead worker's attempt is retried quickly; without heartbeats, an HTTP call or a
// tool slower than that timeout would be cut off and run again.
func keepAlive[Req, Res any](fn func(context.Context, Req) (Res, error)) func(context.Context, Req) (Res, error) {
	return func(ctx context.Context, req Req) (Res, error) {
		stop := heartbeat(ctx)
		defer stop()
		return fn(ctx, req)
	}
}

// registerKinds registers one activity per node kind, in a stable order.
func registerKinds[F any](r worker.ActivityRegistry, fns map[string]F) {
	for _, k := range slices.Sorted(maps.Keys(fns)) {
		r.RegisterActivityWithOptions(fns[k], activity.RegisterOptions{Name: node.ActivityName(k)})
	}
}
