// Package chatnodes holds the node kinds of classic chatflows (other than chat models), one
// file each. A node gets the results of the nodes wired into it (node.Request.Upstream) and
// returns its own (node.Value): configuring nodes hand on a prompt or a memory, chains call
// the model and answer.
package chatnodes

import (
	"context"

	"github.com/flowgate/flowgate/activities/chatmodels"
	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/activities/tools"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/workflows/node"
)

// Nodes is where the kinds table finds each chatflow node, by the method its Run names.
type Nodes struct {
	*nodekit.Deps
	Models chatmodels.Set
	// Tools are the tools agents offer their models.
	Tools tools.Set
}

// Func runs one node.
type Func = func(context.Context, node.Request) (node.Value, error)

// ChatModel is the activity of every chat-model kind in a chatflow: the node's model settings,
// checked, for the chain or agent wired to it (its credential is read by the node that calls
// the model).
func (n *Nodes) ChatModel(ctx context.Context, req node.Request) (node.Value, error) {
	d := req.Node.Data
	model, err := n.Models.Configure(chatmodels.Node{ID: req.Node.ID, Kind: d.Name, Credential: credentialID(req.Node), Inputs: d.Inputs})
	if err != nil {
		return node.Value{}, err
	}
	return node.Value{Kind: d.Name, Model: model}, nil
}

// credentialID reads the node's credential, which Flowise keeps in data.credential and, in
// newer exports, also in inputs.credential.
func credentialID(n chatflow.Node) string {
	if n.Data.Credential != "" {
		return n.Data.Credential
	}
	return n.Input("credential")
}

// WithGlobals resolves {{$vars.name}} and {{$flow.*}} in every string input before the node
// runs, as Flowise does for all nodes. Stored variables are read only when an input refers to
// one; runtime ones (secrets) only when secrets is set, for a node that calls out or
// configures a model: any other node's result, which history keeps, names them as written,
// and the chain that sends it resolves them.
func (n *Nodes) WithGlobals(fn Func, secrets bool) Func {
	return func(ctx context.Context, req node.Request) (node.Value, error) {
		if nodekit.Mentions(req.Node.Data.Inputs) {
			vs, err := n.Variables(ctx, req.Run.Vars)
			if err != nil {
				return node.Value{}, err
			}
			req.Run.Vars = vs.Static()
			if secrets {
				req.Run.Vars = vs.All()
			}
		}
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

// vars is what string inputs of a node may refer to: the question, the flow's ids and
// variables, and the text results of the nodes wired into it.
func vars(req node.Request) chatflow.Vars {
	outputs := map[string]string{}
	for id, v := range req.Upstream {
		if v.Text != nil {
			outputs[id] = *v.Text
		}
	}
	return chatflow.Vars{
		Question: req.Run.Question,
		Vars:     req.Run.Vars,
		Flow: map[string]string{
			"sessionId":  req.Run.SessionID,
			"chatId":     req.Run.ChatID,
			"chatflowId": req.Run.ChatflowID,
		},
		Outputs: outputs,
	}
}

// upstream finds the value wired into a named input ("{{id.data.instance}}").
func upstream(req node.Request, input string) (node.Value, string, bool) {
	id, ok := chatflow.InstanceRef(req.Node.Data.Inputs[input])
	if !ok {
		return node.Value{}, "", false
	}
	v, ok := req.Upstream[id]
	return v, id, ok
}

func upstreamModel(req node.Request, input string) (*node.Model, error) {
	v, id, ok := upstream(req, input)
	if !ok || v.Model == nil {
		return nil, nodekit.FlowError("%s: input %q must be connected to a chat model (got %q)", req.Node.ID, input, id)
	}
	return v.Model, nil
}

func upstreamPrompt(req node.Request, input string) (*node.Prompt, error) {
	v, id, ok := upstream(req, input)
	if !ok || v.Prompt == nil {
		return nil, nodekit.FlowError("%s: input %q must be connected to a prompt (got %q)", req.Node.ID, input, id)
	}
	return v.Prompt, nil
}

// upstreamParser is the output parser wired into the chain, if any.
func upstreamParser(req node.Request) (*node.Parser, error) {
	if _, wired := chatflow.InstanceRef(req.Node.Data.Inputs["outputParser"]); !wired {
		return nil, nil
	}
	v, id, ok := upstream(req, "outputParser")
	if !ok || v.Parser == nil {
		return nil, nodekit.FlowError("%s: input %q must be connected to an output parser (got %q)", req.Node.ID, "outputParser", id)
	}
	return v.Parser, nil
}

func upstreamMemory(req node.Request) *node.Memory {
	v, _, ok := upstream(req, "memory")
	if !ok {
		return nil
	}
	return v.Memory
}

func streamTo(req node.Request) string {
	return nodekit.StreamTo(req.Ending, req.Run.Stream, req.Run.Topic)
}

// withVariables resolves the {{$vars.*}} a prompt node left for the chain that sends it: the
// runtime variables, whose values a quick node's result (kept in history) must not hold.
func (n *Nodes) withVariables(ctx context.Context, req node.Request, p *node.Prompt) (*node.Prompt, error) {
	if p == nil || !nodekit.Mentions(p) {
		return p, nil
	}
	vs, err := n.Variables(ctx, req.Run.Vars)
	if err != nil {
		return nil, err
	}
	resolve := chatflow.Vars{Vars: vs.All()}.ResolveGlobals
	out := &node.Prompt{Template: resolve(p.Template), System: resolve(p.System), Human: resolve(p.Human),
		Values: make(map[string]string, len(p.Values))}
	for k, v := range p.Values {
		out.Values[k] = resolve(v)
	}
	return out, nil
}
