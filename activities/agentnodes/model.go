package agentnodes

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/flowgate/flowgate/activities/chatmodels"
	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/agentflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// modelStep runs a node whose inputs are named <prefix>Model, <prefix>ModelConfig,
// <prefix>Messages, <prefix>EnableMemory and <prefix>UpdateState.
func (s *Steps) modelStep(ctx context.Context, req node.StepRequest, prefix string) (node.StepResult, error) {
	n, sc := req.Node, scope(req)
	model, err := s.agentModel(n, prefix+"Model", prefix+"ModelConfig")
	if err != nil {
		return node.StepResult{}, err
	}
	msgs, err := s.nodeMessages(ctx, req, sc, prefix, model)
	if err != nil {
		return node.StepResult{}, err
	}
	schema, err := agentflow.OutputSchema(n.Inputs[prefix+"StructuredOutput"])
	if err != nil {
		return node.StepResult{}, nodekit.FlowError("%s: %v", n, err)
	}
	if schema != nil {
		if model, err = nodekit.WithSchema(model, schema); err != nil {
			return node.StepResult{}, err
		}
	}
	answer, err := s.chatAnswer(ctx, nodekit.Chat{NodeID: n.ID, Model: model, Messages: msgs, StreamTo: streamTo(req)})
	if err != nil {
		return node.StepResult{}, err
	}
	out := map[string]any{"content": answer}
	if schema != nil {
		fields, err := agentflow.ParseStructured(answer)
		if err != nil {
			return node.StepResult{}, nodekit.FlowError("%s: %v", n, err)
		}
		// The fields are the output, as {{ <nodeId>.output.<key> }} reads them.
		for k, v := range fields {
			out[k] = v
		}
	}
	state, err := withState(req, sc, prefix+"UpdateState", out)
	if err != nil {
		return node.StepResult{}, err
	}
	return node.StepResult{Input: map[string]any{"messages": msgs}, Output: out, State: state,
		ChatHistory: answered(req, sc, prefix, answer)}, nil
}

// nodeMessages is what an LLM or Agent node (inputs named <prefix>…) sends its model, as
// Flowise builds it: its own messages (system ones first); with memory, the session's earlier
// messages and the run's chat history, then <prefix>UserMessage; the question as the user's
// message when the node is the run's first to answer and has none of its own.
func (s *Steps) nodeMessages(ctx context.Context, req node.StepRequest, sc agentflow.VarsScope, prefix string, model *node.Model) ([]llm.Message, error) {
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
	past, err := s.pastMessages(ctx, req, prefix, model)
	if err != nil {
		return nil, err
	}
	msgs = append(msgs, past...)
	msgs = append(msgs, nodekit.ToLLM(req.ChatHistory)...)
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
func answered(req node.StepRequest, sc agentflow.VarsScope, prefix, answer string) []node.Message {
	var out []node.Message
	if len(req.ChatHistory) == 0 {
		memory, _ := req.Node.Inputs[prefix+"EnableMemory"].(bool)
		own, _ := agentMessages(req, sc, prefix+"Messages")
		var users []node.Message
		for _, m := range own {
			if m.Role == llm.RoleUser {
				users = append(users, node.Message{Role: "user", Content: m.Content})
			}
		}
		if memory || len(users) == 0 {
			users = []node.Message{{Role: "user", Content: req.Run.Question}}
		}
		out = users
	}
	role := "user"
	if req.Node.Input(prefix+"ReturnResponseAs") == "assistantMessage" {
		role = "assistant"
	}
	return append(out, node.Message{Role: role, Content: answer})
}

// pastMessages are the session's earlier messages as the node's <prefix>MemoryType keeps
// them: all, the last <prefix>MemoryWindowSize exchanges, a summary of them all
// (conversationSummary), or a summary of the oldest beyond <prefix>MemoryMaxTokenLimit tokens
// with the rest (conversationSummaryBuffer, 2000 by default). The node's own model writes
// summaries.
func (s *Steps) pastMessages(ctx context.Context, req node.StepRequest, prefix string, model *node.Model) ([]llm.Message, error) {
	memoryType := req.Node.Input(prefix + "MemoryType")
	limit := 0
	if memoryType == "windowSize" {
		windowSize, _ := nodekit.ScalarText(req.Node.Inputs[prefix+"MemoryWindowSize"])
		if size, err := strconv.Atoi(strings.TrimSpace(windowSize)); err == nil && size > 0 {
			limit = 2 * size
		}
	}
	past, err := s.sessionMessages(ctx, req.Run, limit)
	if err != nil {
		return nil, err
	}
	switch memoryType {
	case "conversationSummary":
		if len(past) > 0 {
			summary, err := s.summarize(ctx, req.Node.ID, model, past)
			if err != nil {
				return nil, err
			}
			return []llm.Message{{Role: llm.RoleAssistant, Content: summary}}, nil
		}
	case "conversationSummaryBuffer":
		maxTokens, _ := nodekit.ScalarText(req.Node.Inputs[prefix+"MemoryMaxTokenLimit"])
		budget, err := strconv.Atoi(strings.TrimSpace(maxTokens))
		if err != nil || budget <= 0 {
			budget = 2000
		}
		if older, recent := splitByTokens(past, budget); len(older) > 0 {
			summary, err := s.summarize(ctx, req.Node.ID, model, older)
			if err != nil {
				return nil, err
			}
			return append([]llm.Message{{Role: llm.RoleUser, Content: "Previous conversation summary: " + summary}}, recent...), nil
		}
	}
	return past, nil
}

// sessionMessages are the session's earlier messages (the last limit of them, all for 0),
// none with Start's startEphemeralMemory.
func (s *Steps) sessionMessages(ctx context.Context, run node.AgentflowRun, limit int) ([]llm.Message, error) {
	if run.EphemeralMemory {
		return nil, nil
	}
	history, err := s.Store.History(ctx, run.ChatflowID, run.SessionID, limit)
	if err != nil {
		return nil, err
	}
	past := make([]llm.Message, len(history))
	for i, m := range history {
		past[i] = llm.Message{Role: nodekit.StoredRole(m.Role), Content: m.Content}
	}
	return past, nil
}

// summarizePrompt asks a model to fold a conversation into a short summary.
const summarizePrompt = "Summarize the conversation below in a few sentences, keeping the facts, names, numbers and " +
	"decisions a later reply may need. Answer with the summary only.\n\nConversation:\n"

// summarize has the node's model summarize messages.
func (s *Steps) summarize(ctx context.Context, nodeID string, model *node.Model, msgs []llm.Message) (string, error) {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	summary, err := s.Chat(ctx, nodekit.Chat{NodeID: nodeID, Model: model,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: summarizePrompt + b.String()}}})
	if err != nil {
		return "", nodekit.Annotate(err, "summarize the conversation")
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

// agentMessages reads a node's message list ([{role, content}]) and ends it with the question
// as the user's message if the list has none.
func agentMessages(req node.StepRequest, sc agentflow.VarsScope, input string) ([]llm.Message, error) {
	raw, err := json.Marshal(req.Node.Inputs[input])
	if err != nil {
		return nil, nodekit.FlowError("%s: %s is unreadable: %v", req.Node, input, err)
	}
	var list []struct{ Role, Content string }
	if string(raw) != "null" && string(raw) != `""` {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, nodekit.FlowError("%s: %s must be a list of {role, content}: %v", req.Node, input, err)
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

// agentModel reads a model picked inside an agentflow node (its kind in kindInput, its
// settings in configInput), as a chat-model node of a chatflow does.
func (s *Steps) agentModel(n agentflow.Node, kindInput, configInput string) (*node.Model, error) {
	kind := n.Input(kindInput)
	if kind == "" {
		return nil, nodekit.FlowError("%s: pick a model (%s)", n, kindInput)
	}
	settings, _ := n.Inputs[configInput].(map[string]any)
	cred, _ := settings["credential"].(string)
	if cred == "" {
		// Where Flowise's editor keeps the credential of a model picked in an agentflow node.
		cred, _ = settings["FLOWISE_CREDENTIAL_ID"].(string)
	}
	return s.Models.Configure(chatmodels.Node{ID: n.ID, Kind: kind, Credential: cred, Inputs: settings})
}
