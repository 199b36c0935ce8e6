// Package activities implements flow nodes as Temporal activities, one activity type per node
// kind, plus the I/O the prediction workflow needs (saving messages). Credentials are decrypted
// here, inside the activity that calls the provider, and never leave it.
package activities

import (
	"context"
	"log/slog"
	"sort"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/node"
	"github.com/flowgate/flowgate/secrets"
	"github.com/flowgate/flowgate/stream"
)

// Activities holds what node implementations need.
type Activities struct {
	Store  *models.Store
	Cipher *secrets.Cipher
	Stream stream.Publisher
	Logger *slog.Logger
}

type nodeFunc func(context.Context, node.Request) (node.Value, error)

// nodes maps every node kind to its implementation.
func (a *Activities) nodes() map[string]nodeFunc {
	return map[string]nodeFunc{
		"chatOpenAI":         a.chatModel,
		"azureChatOpenAI":    a.chatModel,
		"chatAnthropic":      a.chatModel,
		"chatOllama":         a.chatModel,
		"promptTemplate":     a.promptTemplate,
		"chatPromptTemplate": a.chatPromptTemplate,
		"bufferMemory":       a.bufferMemory,
		"bufferWindowMemory": a.bufferMemory,
		"llmChain":           a.llmChain,
		"conversationChain":  a.conversationChain,
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
	fns := a.nodes()
	kinds := make([]string, 0, len(fns))
	for k := range fns {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		r.RegisterActivityWithOptions(withGlobals(fns[k]), activity.RegisterOptions{Name: node.ActivityName(k)})
	}
	r.RegisterActivityWithOptions(a.SaveMessages, activity.RegisterOptions{Name: node.SaveMessagesActivity})
}
