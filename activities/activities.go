// Package activities is where a node kind meets its code. Register reads the kinds table
// (workflows/node) and registers one activity per kind, under the name histories record
// (node.<kind>, tool.<kind>), bound to the method the table names in the kind's family:
// chatmodels, chatnodes, agentnodes or tools, one file per kind. A kind whose method is
// missing, or of the wrong shape, stops the worker at start.
package activities

import (
	"context"
	"fmt"
	"reflect"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/flowgate/flowgate/activities/agentnodes"
	"github.com/flowgate/flowgate/activities/chatmodels"
	"github.com/flowgate/flowgate/activities/chatnodes"
	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/activities/tools"
	"github.com/flowgate/flowgate/workflows/node"
)

// Deps is what activities run with.
type Deps = nodekit.Deps

// Register registers every kind's activity, the activity that saves a turn, and those of
// document-store upserts and searches.
func Register(r worker.ActivityRegistry, d *Deps) error {
	models, toolSet, impl, err := bind(d)
	if err != nil {
		return err
	}
	nodes := &chatnodes.Nodes{Deps: d, Models: models, Tools: toolSet}
	steps := &agentnodes.Steps{Deps: d, Models: models, Tools: toolSet}
	// A chainTool's call runs its chain's code, as the chain's own activity would.
	chains := map[string]chatnodes.Func{}
	impl.RunChain = func(ctx context.Context, req node.Request) (node.Value, error) {
		fn, ok := chains[req.Node.Data.Name]
		if !ok {
			return node.Value{}, nodekit.FlowError("%s: a chain tool cannot run a %s node", req.Node.ID, req.Node.Data.Name)
		}
		return fn(ctx, req)
	}
	for _, k := range node.Kinds() {
		switch k.Family {
		case node.ChatModel:
			// A model's settings are no secret (its key is a credential): all variables.
			register(r, d, k, node.ActivityName(k.Name), nodes.WithGlobals(nodes.ChatModel, true))
		case node.ChatNode:
			fn, err := method[chatnodes.Func](nodes, k)
			if err != nil {
				return err
			}
			chains[k.Name] = nodes.WithGlobals(fn, true)
			register(r, d, k, node.ActivityName(k.Name), nodes.WithGlobals(fn, k.CallsOut))
		case node.AgentStep:
			if k.Run == "" {
				continue // the workflow runs it
			}
			fn, err := method[agentnodes.Func](steps, k)
			if err != nil {
				return err
			}
			register(r, d, k, node.ActivityName(k.Name), steps.WithProgress(steps.WithVariables(fn, k.CallsOut)))
		case node.Tool:
			register(r, d, k, node.ToolActivityName(k.Name), toolSet.Tools[k.Name].Run)
		case node.FlowTool:
			register(r, d, k, node.ToolActivityName(k.Name), toolSet.Flows[k.Name].Run)
		}
	}
	// The save keeps its error-only shape (histories record no result for it).
	save := nodekit.ReportRetries(d.Logger, func(ctx context.Context, r node.SaveMessagesRequest) (struct{}, error) {
		return struct{}{}, store{d}.SaveMessages(ctx, r)
	})
	r.RegisterActivityWithOptions(func(ctx context.Context, r node.SaveMessagesRequest) error {
		_, err := save(ctx, r)
		return err
	}, activity.RegisterOptions{Name: node.SaveMessagesActivity})
	k := knowledge{d}
	r.RegisterActivityWithOptions(nodekit.ReportRetries(d.Logger, nodekit.KeepAlive(d.Aborts, k.Upsert)), activity.RegisterOptions{Name: node.UpsertActivity})
	r.RegisterActivityWithOptions(nodekit.ReportRetries(d.Logger, k.Query), activity.RegisterOptions{Name: node.QueryActivity})
	return nil
}

// register registers one kind's activity. One that calls out is kept reachable while it runs
// (nodekit.KeepAlive: heartbeats, or abort watches when it runs locally). Every retried
// attempt is logged, and every attempt observed (nodekit.Observe: span attributes, node series).
func register[Req, Res any](r worker.ActivityRegistry, d *Deps, k node.Kind, name string, fn func(context.Context, Req) (Res, error)) {
	if k.CallsOut {
		fn = nodekit.KeepAlive(d.Aborts, fn)
	}
	r.RegisterActivityWithOptions(nodekit.ReportRetries(d.Logger, nodekit.Observe(d, k.Name, fn)), activity.RegisterOptions{Name: name})
}

// bind builds the chat models and the tools from the kinds table: the nodes that use them
// find them by kind.
func bind(d *Deps) (chatmodels.Set, tools.Set, *tools.Tools, error) {
	models := chatmodels.Set{}
	set := tools.Set{Tools: map[string]tools.Tool{}, Flows: map[string]tools.FlowTool{}}
	impl := &tools.Tools{Deps: d}
	for _, k := range node.Kinds() {
		var err error
		switch k.Family {
		case node.ChatModel:
			models[k.Name], err = build[chatmodels.Model](chatmodels.Models{}, k)
		case node.Tool:
			var t tools.Tool
			t, err = build[tools.Tool](impl, k)
			t.Run = impl.WithVariables(t.Run) // as an agent's call and as a Tool node
			set.Tools[k.Name] = t
		case node.FlowTool:
			set.Flows[k.Name], err = build[tools.FlowTool](impl, k)
		}
		if err != nil {
			return nil, tools.Set{}, nil, err
		}
	}
	return models, set, impl, nil
}

// build calls the method that makes kind k's T.
func build[T any](impl any, k node.Kind) (T, error) {
	fn, err := method[func() T](impl, k)
	if err != nil {
		var zero T
		return zero, err
	}
	return fn(), nil
}

// method is the method of impl that the kinds table names as kind k's code, as a function of
// its family's shape F.
func method[F any](impl any, k node.Kind) (F, error) {
	var fn F
	m := reflect.ValueOf(impl).MethodByName(k.Run)
	if !m.IsValid() {
		return fn, fmt.Errorf("kind %s: %T has no method %s, which the kinds table names", k.Name, impl, k.Run)
	}
	want := reflect.TypeFor[F]()
	if !m.Type().ConvertibleTo(want) {
		return fn, fmt.Errorf("kind %s: %T.%s is a %s, not a %s as every %s is", k.Name, impl, k.Run, m.Type(), want, k.Family)
	}
	return m.Convert(want).Interface().(F), nil
}
