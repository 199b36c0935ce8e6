// Package agentnodes holds the node kinds of agentflows (Flowise's Agent Flows v2), one file
// each. A step gets the run's state, the outputs of the nodes before it and, for an agent, its
// conversation so far; it returns its output, the new state and, for an agent that wants tools,
// the calls the workflow runs next.
package agentnodes

import (
	"context"
	"time"

	"github.com/flowgate/flowgate/activities/chatmodels"
	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/activities/tools"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// Steps is where the kinds table finds each agentflow node, by the method its Run names.
type Steps struct {
	*nodekit.Deps
	Models chatmodels.Set
	Tools  tools.Set
}

// Func runs one step.
type Func = func(context.Context, node.StepRequest) (node.StepResult, error)

// WithVariables gives a step its {{$vars.*}}: read only when its inputs refer to one, runtime
// ones (secrets) only for a step that calls out, whose record of what it sent (its Input in
// agentFlowExecutedData, which history keeps) names them instead of showing their values.
func (s *Steps) WithVariables(fn Func, callsOut bool) Func {
	return func(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
		if !nodekit.Mentions(req.Node.Inputs) {
			return fn(ctx, req)
		}
		vs, err := s.Variables(ctx, req.Run.Vars)
		if err != nil {
			return node.StepResult{}, err
		}
		req.Run.Vars = vs.Static()
		if !callsOut {
			return fn(ctx, req)
		}
		req.Run.Vars = vs.All()
		res, err := fn(ctx, req)
		res.Input = vs.Redact(res.Input)
		return res, err
	}
}

// WithProgress publishes a node's INPROGRESS and then FINISHED or ERROR on a streamed run's
// topic. A broker that fails costs only these events, never the node.
func (s *Steps) WithProgress(fn Func) Func {
	return func(ctx context.Context, req node.StepRequest) (node.StepResult, error) {
		if !req.Run.Stream || req.Run.Topic == "" {
			return fn(ctx, req)
		}
		publish := func(status, msg string) {
			ev := map[string]any{"nodeId": req.Node.ID, "nodeLabel": req.Node.Label, "status": status}
			if msg != "" {
				ev["error"] = msg
			}
			s.Publish(ctx, req.Run.Topic, node.NextAgentFlowEvent, ev)
		}
		publish(node.StatusInProgress, "")
		res, err := fn(ctx, req)
		if err != nil {
			publish(node.StatusError, err.Error())
			return res, err
		}
		publish(node.StatusFinished, "")
		return res, nil
	}
}

// scope is what {{ … }} references in a node's inputs resolve against.
func scope(req node.StepRequest) agentflow.VarsScope {
	run := req.Run
	return agentflow.VarsScope{
		Question:  run.Question,
		State:     req.State,
		Vars:      run.Vars,
		Flow:      map[string]any{"sessionId": run.SessionID, "chatId": run.ChatID, "chatflowId": run.ChatflowID, "input": run.Question},
		Outputs:   outputsAny(req.Outputs),
		Iteration: req.Iteration,
		Form:      run.Form,
		// An activity may read the clock; the value is recorded with its result.
		Now: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), // JavaScript's toISOString
	}
}

// text is a string input as the node uses it: the editor's rich text made plain and its
// variables resolved.
func text(req node.StepRequest, sc agentflow.VarsScope, input string) string {
	return sc.Resolve(req.Node.Input(input))
}

// withState applies a node's "…UpdateState" input once its own output is known.
func withState(req node.StepRequest, sc agentflow.VarsScope, updates string, out map[string]any) (map[string]any, error) {
	if req.Node.Inputs[updates] == nil || req.Node.Inputs[updates] == "" {
		return nil, nil
	}
	sc.Outputs = outputsAny(req.Outputs)
	sc.Outputs[req.Node.ID] = out
	state, err := agentflow.ApplyStateUpdates(req.State, req.Node.Inputs[updates], sc)
	if err != nil {
		return nil, nodekit.FlowError("%s: %v", req.Node, err)
	}
	// {{ output }} in an update means this node's own result.
	return agentflow.ApplyOutputToState(state, out["content"]), nil
}

// outputsAny is a copy of the earlier nodes' outputs in the form variables are resolved from.
func outputsAny(in map[string]map[string]any) map[string]any {
	out := make(map[string]any, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	return out
}

func streamTo(req node.StepRequest) string {
	return nodekit.StreamTo(req.Ending, req.Run.Stream, req.Run.Topic)
}

// sendWhole sends the answer of a node that ends a streaming run as one token. Flowise's
// agentflow nodes (Tool, Retriever, Custom Function, Direct Reply, and LLM or Agent when their
// answer did not stream) do so, so that a streaming client gets the same text as a JSON one.
func (s *Steps) sendWhole(ctx context.Context, req node.StepRequest, text string) {
	if topic := streamTo(req); topic != "" {
		s.PublishAnswer(ctx, topic, text)
	}
}

// chatAnswer asks a node's model for its answer and, with call.StreamTo set, sends it there:
// token by token when the model streams, else whole once it has arrived.
func (s *Steps) chatAnswer(ctx context.Context, call nodekit.Chat) (string, error) {
	answer, err := s.Chat(ctx, call)
	if err == nil && call.StreamTo != "" && !call.Streams() {
		s.PublishAnswer(ctx, call.StreamTo, answer)
	}
	return answer, err
}
