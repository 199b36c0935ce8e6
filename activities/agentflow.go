package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

type stepFunc func(context.Context, agentflow.StepRequest) (agentflow.StepResult, error)

// agentNodes maps every agentflow node kind this version runs to its implementation.
func (a *Activities) agentNodes() map[string]stepFunc {
	return map[string]stepFunc{
		agentflow.KindStart:          a.startStep,
		agentflow.KindLLM:            a.llmStep,
		agentflow.KindAgent:          a.agentStep,
		agentflow.KindCondition:      a.conditionStep,
		agentflow.KindDirectReply:    a.directReplyStep,
		agentflow.KindCustomFunction: a.customFunctionStep,
		agentflow.KindHTTP:           a.httpStep,
		agentflow.KindHumanInput:     a.humanInputStep,
		agentflow.KindIteration:      a.iterationStep,
		agentflow.KindConditionAgent: a.conditionAgentStep,
		agentflow.KindExecuteFlow:    a.executeFlowStep,
		agentflow.KindTool:           a.toolStep,
		agentflow.KindRetriever:      a.retrieverStep,
	}
}

// withProgress publishes a node's INPROGRESS and then FINISHED or ERROR on a streamed run's
// topic. A broker that fails costs only these events, never the node.
func (a *Activities) withProgress(fn stepFunc) stepFunc {
	return func(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
		if !req.Run.Stream || req.Run.Topic == "" {
			return fn(ctx, req)
		}
		publish := func(status, msg string) {
			ev := map[string]any{"nodeId": req.Node.ID, "nodeLabel": req.Node.Label, "status": status}
			if msg != "" {
				ev["error"] = msg
			}
			if err := a.Stream.Publish(ctx, req.Run.Topic, 0, agentflow.NextAgentFlowEvent, ev); err != nil && a.Logger != nil {
				a.Logger.Warn("publish node progress", "topic", req.Run.Topic, "error", err)
			}
		}
		publish(agentflow.StatusInProgress, "")
		res, err := fn(ctx, req)
		if err != nil {
			publish(agentflow.StatusError, err.Error())
			return res, err
		}
		publish(agentflow.StatusFinished, "")
		return res, nil
	}
}

// scope is what {{ … }} references in a node's inputs resolve against.
func scope(req agentflow.StepRequest) agentflow.VarsScope {
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
func text(req agentflow.StepRequest, sc agentflow.VarsScope, input string) string {
	return sc.Resolve(req.Node.Input(input))
}

// withState applies a node's "…UpdateState" input once its own output is known.
func withState(req agentflow.StepRequest, sc agentflow.VarsScope, updates string, out map[string]any) (map[string]any, error) {
	if req.Node.Inputs[updates] == nil || req.Node.Inputs[updates] == "" {
		return nil, nil
	}
	sc.Outputs = outputsAny(req.Outputs)
	sc.Outputs[req.Node.ID] = out
	state, err := agentflow.ApplyStateUpdates(req.State, req.Node.Inputs[updates], sc)
	if err != nil {
		return nil, flowError("%s: %v", req.Node, err)
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

// startStep opens the run: the question (or form) is its output and startState the initial
// $flow.state. With startPersistState, the state the session's previous run ended with
// carries over, over startState's values, as in Flowise.
func (a *Activities) startStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	out := map[string]any{"content": req.Run.Question, "question": req.Run.Question}
	if req.Run.Form != nil {
		out["form"] = req.Run.Form
	}
	state, err := agentflow.InitialState(req.Node.Inputs["startState"])
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: startState: %v", req.Node, err)
	}
	if agentflow.Truthy(req.Node.Inputs["startPersistState"]) {
		previous, err := a.previousState(ctx, req.Run)
		if err != nil {
			return agentflow.StepResult{}, err
		}
		if len(previous) > 0 && state == nil {
			state = map[string]any{}
		}
		for k, v := range previous {
			state[k] = v
		}
	}
	return agentflow.StepResult{Input: map[string]any{"question": req.Run.Question}, Output: out, State: state}, nil
}

// previousState is the $flow.state the session's latest run of this flow ended with: that of
// the last node it recorded with one.
func (a *Activities) previousState(ctx context.Context, run agentflow.Run) (map[string]any, error) {
	execs, _, err := a.Store.ListExecutions(ctx, models.ExecutionFilter{AgentflowID: run.ChatflowID, SessionID: run.SessionID, Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("read the session's previous run: %w", err)
	}
	if len(execs) == 0 {
		return nil, nil
	}
	var executed []agentflow.ExecutedNode
	if err := json.Unmarshal([]byte(execs[0].ExecutionData), &executed); err != nil {
		return nil, flowError("the session's previous run %s has unreadable data: %v", execs[0].ID, err)
	}
	for i := len(executed) - 1; i >= 0; i-- {
		if executed[i].Data.State != nil {
			return executed[i].Data.State, nil
		}
	}
	return nil, nil
}

// llmStep asks the node's model with its messages; the question is the user's message when
// the node has none of its own.
func (a *Activities) llmStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	return a.modelStep(ctx, req, "llm")
}

// agentStep is one turn of an Agent node. Without tools its model answers its messages, as
// an LLM node's does. With tools the model may ask for calls instead: the turn then returns
// the conversation and the calls, the workflow runs each call as its own activity, and the
// next turn continues the conversation with their results.
func (a *Activities) agentStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	names := agentflow.AgentTools(req.Node)
	if len(names) == 0 {
		return a.modelStep(ctx, req, "agent")
	}
	n, sc := req.Node, scope(req)
	model, err := a.agentModel(ctx, n, "agentModel", "agentModelConfig")
	if err != nil {
		return agentflow.StepResult{}, err
	}
	msgs := fromAgentMessages(req.Conversation)
	if len(msgs) == 0 {
		if msgs, err = a.nodeMessages(ctx, req, sc, "agent", model); err != nil {
			return agentflow.StepResult{}, err
		}
	}
	tools, byName, err := a.offerTools(ctx, n)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	resp, err := a.callModelTools(ctx, n.ID, model, msgs, tools)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	if len(resp.ToolCalls) > 0 {
		turn := llm.Message{Role: llm.RoleAssistant, Content: resp.Text, ToolCalls: resp.ToolCalls}
		return agentflow.StepResult{Conversation: toAgentMessages(append(msgs, turn)), ToolCalls: resolveCalls(resp.ToolCalls, byName, req.Rejected),
			Output: map[string]any{"content": resp.Text}}, nil
	}
	out := map[string]any{"content": resp.Text}
	state, err := withState(req, sc, "agentUpdateState", out)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	return agentflow.StepResult{Input: map[string]any{"messages": msgs}, Output: out, State: state,
		ChatHistory: answered(req, sc, "agent", resp.Text)}, nil
}

func toAgentMessages(msgs []llm.Message) []agentflow.AgentMessage {
	out := make([]agentflow.AgentMessage, len(msgs))
	for i, m := range msgs {
		out[i] = agentflow.AgentMessage{Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			out[i].ToolCalls = append(out[i].ToolCalls, agentflow.AgentToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
		}
	}
	return out
}

func fromAgentMessages(msgs []agentflow.AgentMessage) []llm.Message {
	out := make([]llm.Message, len(msgs))
	for i, m := range msgs {
		out[i] = llm.Message{Role: llm.Role(m.Role), Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			out[i].ToolCalls = append(out[i].ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Name, Arguments: tc.Arguments})
		}
	}
	return out
}

// modelStep runs a node whose inputs are named <prefix>Model, <prefix>ModelConfig,
// <prefix>Messages, <prefix>EnableMemory and <prefix>UpdateState.
func (a *Activities) modelStep(ctx context.Context, req agentflow.StepRequest, prefix string) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	model, err := a.agentModel(ctx, n, prefix+"Model", prefix+"ModelConfig")
	if err != nil {
		return agentflow.StepResult{}, err
	}
	msgs, err := a.nodeMessages(ctx, req, sc, prefix, model)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	schema, err := agentflow.OutputSchema(n.Inputs[prefix+"StructuredOutput"])
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: %v", n, err)
	}
	call := node.Request{Node: chatflow.Node{ID: n.ID}, Run: node.Run{Topic: req.Run.Topic, Stream: req.Run.Stream}, Ending: req.Ending}
	if schema != nil {
		if model, err = withSchema(model, schema); err != nil {
			return agentflow.StepResult{}, err
		}
		call.Run.Stream = false // a JSON object is not streamed token by token
	}
	answer, err := a.callModel(ctx, call, model, msgs)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	out := map[string]any{"content": answer}
	if schema != nil {
		fields, err := agentflow.ParseStructured(answer)
		if err != nil {
			return agentflow.StepResult{}, flowError("%s: %v", n, err)
		}
		// The fields are the output, as {{ <nodeId>.output.<key> }} reads them.
		for k, v := range fields {
			out[k] = v
		}
	}
	state, err := withState(req, sc, prefix+"UpdateState", out)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	return agentflow.StepResult{Input: map[string]any{"messages": msgs}, Output: out, State: state,
		ChatHistory: answered(req, sc, prefix, answer)}, nil
}

// withSchema asks the model for a JSON answer matching schema.
func withSchema(m *node.Model, schema json.RawMessage) (*node.Model, error) {
	var cfg llm.Config
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		return nil, flowError("model settings are unreadable: %v", err)
	}
	cfg.JSONSchema = schema
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	out := *m
	out.Config = raw
	return &out, nil
}

// nodeMessages is what an LLM or Agent node (inputs named <prefix>…) sends its model, as
// Flowise builds it: its own messages (system ones first); with memory, the session's earlier
// messages and the run's chat history, then <prefix>UserMessage; the question as the user's
// message when the node is the run's first to answer and has none of its own.
func (a *Activities) nodeMessages(ctx context.Context, req agentflow.StepRequest, sc agentflow.VarsScope, prefix string, model *node.Model) ([]llm.Message, error) {
	own, err := agentMessages(req, sc, prefix+"Messages")
	if err != nil {
		return nil, err
	}
	var msgs, rest []llm.Message
	hasUser := false
	for _, m := range own {
		if m.Role == llm.RoleSystem {
			msgs = append(msgs, m)
		} else {
			rest = append(rest, m)
			hasUser = hasUser || m.Role == llm.RoleUser
		}
	}
	msgs = append(msgs, rest...)
	first := len(req.ChatHistory) == 0
	if on, _ := req.Node.Inputs[prefix+"EnableMemory"].(bool); !on {
		if first && !hasUser {
			msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: req.Run.Question})
		}
		return msgs, nil
	}
	past, err := a.pastMessages(ctx, req, prefix, model)
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, past...)
	msgs = append(msgs, fromAgentMessages(req.ChatHistory)...)
	if first {
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: req.Run.Question})
	}
	if extra := strings.TrimSpace(text(req, sc, prefix+"UserMessage")); extra != "" {
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: extra})
	}
	return msgs, nil
}

// answered is what a node adds to the run's chat history: the question when it is the first
// to answer (its own user messages instead, when it has no memory and some of its own), then
// its answer, as a user or assistant message as <prefix>ReturnResponseAs says.
func answered(req agentflow.StepRequest, sc agentflow.VarsScope, prefix, answer string) []agentflow.AgentMessage {
	var out []agentflow.AgentMessage
	if len(req.ChatHistory) == 0 {
		memory, _ := req.Node.Inputs[prefix+"EnableMemory"].(bool)
		own, _ := agentMessages(req, sc, prefix+"Messages")
		var users []agentflow.AgentMessage
		for _, m := range own {
			if m.Role == llm.RoleUser {
				users = append(users, agentflow.AgentMessage{Role: "user", Content: m.Content})
			}
		}
		if memory || len(users) == 0 {
			users = []agentflow.AgentMessage{{Role: "user", Content: req.Run.Question}}
		}
		out = users
	}
	role := "user"
	if req.Node.Input(prefix+"ReturnResponseAs") == "assistantMessage" {
		role = "assistant"
	}
	return append(out, agentflow.AgentMessage{Role: role, Content: answer})
}

// pastMessages are the session's earlier messages as the node's <prefix>MemoryType keeps
// them: all, the last <prefix>MemoryWindowSize exchanges, a summary of them all
// (conversationSummary), or a summary of the oldest beyond <prefix>MemoryMaxTokenLimit tokens
// with the rest (conversationSummaryBuffer, 2000 by default). The node's own model writes
// summaries.
func (a *Activities) pastMessages(ctx context.Context, req agentflow.StepRequest, prefix string, model *node.Model) ([]llm.Message, error) {
	if req.Run.EphemeralMemory {
		return nil, nil
	}
	memoryType := req.Node.Input(prefix + "MemoryType")
	limit := 0
	if memoryType == "windowSize" {
		windowSize, _ := scalarText(req.Node.Inputs[prefix+"MemoryWindowSize"])
		if size, err := strconv.Atoi(strings.TrimSpace(windowSize)); err == nil && size > 0 {
			limit = 2 * size
		}
	}
	history, err := a.Store.History(ctx, req.Run.ChatflowID, req.Run.SessionID, limit)
	if err != nil {
		return nil, err
	}
	past := make([]llm.Message, len(history))
	for i, m := range history {
		past[i] = llm.Message{Role: llm.RoleUser, Content: m.Content}
		if m.Role == models.RoleAPI {
			past[i].Role = llm.RoleAssistant
		}
	}
	switch memoryType {
	case "conversationSummary":
		if len(past) > 0 {
			summary, err := a.summarize(ctx, req.Node.ID, model, past)
			if err != nil {
				return nil, err
			}
			return []llm.Message{{Role: llm.RoleAssistant, Content: summary}}, nil
		}
	case "conversationSummaryBuffer":
		maxTokens, _ := scalarText(req.Node.Inputs[prefix+"MemoryMaxTokenLimit"])
		budget, err := strconv.Atoi(strings.TrimSpace(maxTokens))
		if err != nil || budget <= 0 {
			budget = 2000
		}
		if older, recent := splitByTokens(past, budget); len(older) > 0 {
			summary, err := a.summarize(ctx, req.Node.ID, model, older)
			if err != nil {
				return nil, err
			}
			return append([]llm.Message{{Role: llm.RoleUser, Content: "Previous conversation summary: " + summary}}, recent...), nil
		}
	}
	return past, nil
}

// summarizePrompt asks a model to fold a conversation into a short summary.
const summarizePrompt = "Summarize the conversation below in a few sentences, keeping the facts, names, numbers and " +
	"decisions a later reply may need. Answer with the summary only.\n\nConversation:\n"

// summarize has the node's model summarize messages.
func (a *Activities) summarize(ctx context.Context, nodeID string, model *node.Model, msgs []llm.Message) (string, error) {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	call := node.Request{Node: chatflow.Node{ID: nodeID}}
	summary, err := a.callModel(ctx, call, model, []llm.Message{{Role: llm.RoleUser, Content: summarizePrompt + b.String()}})
	if err != nil {
		return "", annotate(err, "summarize the conversation")
	}
	return summary, nil
}

// splitByTokens splits messages into the oldest ones and the most recent ones that fit in
// budget tokens, estimated at four characters a token (close to OpenAI's tokenizers for
// English text, and needing no tokenizer per model).
func splitByTokens(msgs []llm.Message, budget int) (older, recent []llm.Message) {
	used := 0
	for i := len(msgs) - 1; i >= 0; i-- {
		used += (len(msgs[i].Role) + 2 + len(msgs[i].Content) + 3) / 4
		if used > budget {
			return msgs[:i+1], msgs[i+1:]
		}
	}
	return nil, msgs
}

// scalarText is an input value that may arrive as a string, a number or a boolean, as text;
// false for anything else.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// agentMessages reads a node's message list ([{role, content}]) and ends it with the question
// as the user's message if the list has none.
func agentMessages(req agentflow.StepRequest, sc agentflow.VarsScope, input string) ([]llm.Message, error) {
	raw, err := json.Marshal(req.Node.Inputs[input])
	if err != nil {
		return nil, flowError("%s: %s is unreadable: %v", req.Node, input, err)
	}
	var list []struct{ Role, Content string }
	if string(raw) != "null" && string(raw) != `""` {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, flowError("%s: %s must be a list of {role, content}: %v", req.Node, input, err)
		}
	}
	var msgs []llm.Message
	for _, m := range list {
		role := llm.RoleUser
		switch m.Role {
		case "system", "developer":
			role = llm.RoleSystem
		case "assistant", "ai":
			role = llm.RoleAssistant
		}
		if content := sc.Resolve(m.Content); content != "" {
			msgs = append(msgs, llm.Message{Role: role, Content: content})
		}
	}
	return msgs, nil
}

// agentModel reads a model picked inside an agentflow node (provider in kindInput, settings
// in configInput) and checks its credential, as a chat-model node of a chatflow does.
func (a *Activities) agentModel(ctx context.Context, n agentflow.Node, kindInput, configInput string) (*node.Model, error) {
	provider := n.Input(kindInput)
	settings, _ := n.Inputs[configInput].(map[string]any)
	if provider == "" {
		return nil, flowError("%s: pick a model (%s)", n, kindInput)
	}
	// The settings hold numbers and booleans where a chat-model node holds strings.
	inputs := make(map[string]any, len(settings))
	for k, v := range settings {
		if text, ok := scalarText(v); ok {
			inputs[k] = text
		} else {
			inputs[k] = v
		}
	}
	cred, _ := settings["credential"].(string)
	model := chatflow.Node{ID: n.ID, Data: chatflow.NodeData{ID: n.ID, Name: provider, Credential: cred, Inputs: inputs}}
	v, err := a.chatModel(ctx, node.Request{Node: model})
	if err != nil {
		return nil, err
	}
	return v.Model, nil
}

// conditionStep evaluates the node's conditions in order: the first fulfilled one's branch
// runs, else the last (else) branch.
func (a *Activities) conditionStep(_ context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	sc := scope(req)
	conds, err := agentflow.ParseConditions(req.Node.Inputs["conditions"])
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: %v", req.Node, err)
	}
	for i := range conds {
		conds[i].Value1 = sc.Resolve(conds[i].Value1)
		conds[i].Value2 = sc.Resolve(conds[i].Value2)
	}
	branches, err := agentflow.ChooseBranches(conds)
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: %v", req.Node, err)
	}
	return agentflow.StepResult{Input: map[string]any{"conditions": conds},
		Output: map[string]any{"content": "", "conditions": conds, "branches": branches}, Branches: branches}, nil
}

// directReplyStep answers with its message.
func (a *Activities) directReplyStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	reply := text(req, scope(req), "directReplyMessage")
	if req.Ending && req.Run.Stream && req.Run.Topic != "" {
		a.publishToken(ctx, req.Run.Topic, reply)
	}
	return agentflow.StepResult{Output: map[string]any{"content": reply}}, nil
}

// publishToken sends a whole answer as one token; a broker failure only costs the stream,
// which the API completes from the saved answer.
func (a *Activities) publishToken(ctx context.Context, topic, tok string) {
	if err := a.Stream.Publish(ctx, topic, 1, "token", tok); err != nil && a.Logger != nil {
		a.Logger.Warn("could not stream the reply", "topic", topic, "error", err)
	}
}

// humanInputStep writes what the run asks the user before it stops: the node's fixed
// description, or with the "dynamic" type one its model writes (from humanInputModelPrompt,
// else from the question).
func (a *Activities) humanInputStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	if n.Input("humanInputDescriptionType") != "dynamic" {
		return agentflow.StepResult{Output: map[string]any{"content": text(req, sc, "humanInputDescription")}}, nil
	}
	model, err := a.agentModel(ctx, n, "humanInputModel", "humanInputModelConfig")
	if err != nil {
		return agentflow.StepResult{}, err
	}
	prompt := cmp.Or(text(req, sc, "humanInputModelPrompt"),
		"In one or two sentences, ask the user whether to proceed with this request: "+req.Run.Question)
	call := node.Request{Node: chatflow.Node{ID: n.ID}}
	description, err := a.callModel(ctx, call, model, []llm.Message{{Role: llm.RoleUser, Content: prompt}})
	if err != nil {
		return agentflow.StepResult{}, err
	}
	return agentflow.StepResult{Output: map[string]any{"content": description}}, nil
}

// iterationStep reads the items an iteration node runs its child nodes for: its
// iterationInput, a JSON array written in the node or taken from a variable.
func (a *Activities) iterationStep(_ context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	raw := scope(req).ResolveAny(req.Node.Inputs["iterationInput"])
	items, ok := raw.([]any)
	if !ok {
		s, _ := raw.(string)
		if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &items); err != nil {
			return agentflow.StepResult{}, flowError("%s: iterationInput must be a JSON array, got %.100q", req.Node, s)
		}
	}
	return agentflow.StepResult{Input: map[string]any{"iterationInput": items}, Output: map[string]any{"content": "", "items": items}}, nil
}

// conditionAgentStep lets the node's model pick the scenario that fits its input: the model
// must answer {"output": <one of the scenarios>}, and that scenario's branch runs. An answer
// that names none of them takes the last branch.
func (a *Activities) conditionAgentStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	list, _ := n.Inputs["conditionAgentScenarios"].([]any)
	var scenarios []string
	for _, item := range list {
		m, _ := item.(map[string]any)
		if s, _ := m["scenario"].(string); strings.TrimSpace(s) != "" {
			scenarios = append(scenarios, strings.TrimSpace(sc.Resolve(s)))
		}
	}
	if len(scenarios) == 0 {
		return agentflow.StepResult{}, flowError("%s: it has no scenarios to choose from", n)
	}
	model, err := a.agentModel(ctx, n, "conditionAgentModel", "conditionAgentModelConfig")
	if err != nil {
		return agentflow.StepResult{}, err
	}
	schema, err := json.Marshal(map[string]any{"type": "object", "required": []string{"output"}, "additionalProperties": false,
		"properties": map[string]any{"output": map[string]any{"type": "string", "enum": scenarios}}})
	if err != nil {
		return agentflow.StepResult{}, err
	}
	if model, err = withSchema(model, schema); err != nil {
		return agentflow.StepResult{}, err
	}
	input := cmp.Or(strings.TrimSpace(text(req, sc, "conditionAgentInput")), req.Run.Question)
	system := text(req, sc, "conditionAgentInstructions") + "\n\nDecide which of these scenarios fits the input and answer with it as \"output\":\n- " +
		strings.Join(scenarios, "\n- ")
	msgs := []llm.Message{{Role: llm.RoleSystem, Content: system}, {Role: llm.RoleUser, Content: input}}
	answer, err := a.callModel(ctx, node.Request{Node: chatflow.Node{ID: n.ID}}, model, msgs)
	if err != nil {
		return agentflow.StepResult{}, err
	}
	fields, err := agentflow.ParseStructured(answer)
	if err != nil {
		return agentflow.StepResult{}, flowError("%s: %v", n, err)
	}
	chosen, _ := fields["output"].(string)
	branch := len(scenarios) - 1
	for i, s := range scenarios {
		if strings.EqualFold(strings.TrimSpace(chosen), s) {
			branch = i
			break
		}
	}
	return agentflow.StepResult{Input: map[string]any{"input": input, "scenarios": scenarios},
		Output: map[string]any{"content": chosen, "output": chosen}, Branches: []int{branch}}, nil
}

// executeFlowStep reads the chatflow the node runs and the input it hands over; the workflow
// then runs that flow as a child workflow (its snapshot, so later edits of it do not touch
// this run).
func (a *Activities) executeFlowStep(ctx context.Context, req agentflow.StepRequest) (agentflow.StepResult, error) {
	n, sc := req.Node, scope(req)
	id := n.Input("executeFlowSelectedFlow")
	if id == "" {
		return agentflow.StepResult{}, flowError("%s: pick the flow to execute", n)
	}
	f, err := a.Store.GetChatFlow(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return agentflow.StepResult{}, flowError("%s: flow %s not found", n, id)
	}
	if err != nil {
		return agentflow.StepResult{}, err
	}
	input := cmp.Or(strings.TrimSpace(text(req, sc, "executeFlowInput")), req.Run.Question)
	return agentflow.StepResult{Input: map[string]any{"flow": f.Name, "question": input},
		Child: &agentflow.ChildFlow{ChatflowID: f.ID, Type: f.Type, FlowData: f.FlowData, Question: input}}, nil
}
