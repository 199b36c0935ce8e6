package chatnodes

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/activities/tools"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// The classic chatflow agents (toolAgent, openAIToolAgent, conversationalAgent,
// reactAgentChat) share one way of running: each activity is one model turn. The first turn
// sends the system message, the memory's history and the question, offering the model the
// tool nodes wired into the agent's tools input; a turn whose model asks for tools returns
// the conversation and the calls (node.Value.Agent), the workflow runs each call as its own
// activity (tool.<kind>) and calls the agent again with the conversation and the results,
// until the model answers. Every agent uses the model's native tool calling, which every
// chat model of the kinds table that CallsTools speaks: Flowise's conversationalAgent and
// reactAgentChat instead prompt the model to write its actions as JSON or ReAct text, which
// only works as well as a model follows that format. They keep their system message (the
// node's, or Flowise's default), not the format instructions.

// agentStyle is what tells the agents apart.
type agentStyle struct {
	// system is the system message when the node has none: Flowise's default for the kind.
	system string
	// ownSystem: the node has a systemMessage input (reactAgentChat has none).
	ownSystem bool
	// promptTemplate: a chatPromptTemplate wired into the node replaces its system message
	// and frames the question (the Tool Agent's).
	promptTemplate bool
}

// assistantPrefix is the preamble of Flowise's conversational agent and of the react-chat
// prompt its ReAct agent pulls from LangChain's hub.
const assistantPrefix = `Assistant is a large language model trained by OpenAI.

Assistant is designed to be able to assist with a wide range of tasks, from answering simple questions to providing in-depth explanations and discussions on a wide range of topics. As a language model, Assistant is able to generate human-like text based on the input it receives, allowing it to engage in natural-sounding conversations and provide responses that are coherent and relevant to the topic at hand.

Assistant is constantly learning and improving, and its capabilities are constantly evolving. It is able to process and understand large amounts of text, and can use this knowledge to provide accurate and informative responses to a wide range of questions. Additionally, Assistant is able to generate its own text based on the input it receives, allowing it to engage in discussions and provide explanations and descriptions on a wide range of topics.

Overall, Assistant is a powerful system that can help with a wide range of tasks and provide valuable insights and information on a wide range of topics. Whether you need help with a specific question or just want to have a conversation about a particular topic, Assistant is here to assist.`

// thinking is what Claude may write before its answer; Flowise's tool agent drops it.
var thinking = regexp.MustCompile(`<thinking>[\s\S]*?</thinking>`)

// agentTurn runs one model turn of a chatflow agent.
func (n *Nodes) agentTurn(ctx context.Context, req node.Request, style agentStyle) (node.Value, error) {
	nd := req.Node
	modelValue, id, ok := upstream(req, "model")
	if !ok || modelValue.Model == nil {
		return node.Value{}, nodekit.FlowError("%s: input \"model\" must be connected to a chat model (got %q)", nd.ID, id)
	}
	if k, _ := node.Lookup(modelValue.Kind); !k.CallsTools {
		return node.Value{}, nodekit.FlowError("%s: chat model %s cannot call tools; connect one that can (%s)", nd.ID, modelValue.Kind,
			strings.Join(node.ToolModels(), ", "))
	}
	toolNodes, err := agentTools(req)
	if err != nil {
		return node.Value{}, err
	}
	offered, byName, err := n.Tools.OfferEntries(ctx, nd, tools.ChatflowEntries(toolNodes))
	if err != nil {
		return node.Value{}, err
	}
	msgs := nodekit.ToLLM(req.Conversation)
	if len(msgs) == 0 {
		// The first turn checks the question against the agent's input moderations, as
		// Flowise's agents do before they run: a refusal is the answer.
		question, err := n.question(ctx, req.Run)
		if err != nil {
			return node.Value{}, err
		}
		if refusal, refused, err := n.moderate(ctx, req, question); err != nil || refused {
			return node.TextValue(nd.Data.Name, refusal), err
		}
		if msgs, err = n.agentMessages(ctx, req, style); err != nil {
			return node.Value{}, err
		}
	}
	resp, err := n.ChatWithTools(ctx, nodekit.Chat{NodeID: nd.ID, Model: modelValue.Model, Messages: msgs}, offered)
	if err != nil {
		return node.Value{}, err
	}
	if len(resp.ToolCalls) > 0 {
		turn := llm.Message{Role: llm.RoleAssistant, Content: resp.Text, ToolCalls: resp.ToolCalls}
		return node.Value{Kind: nd.Data.Name, Agent: &node.AgentTurn{
			Conversation: nodekit.FromLLM(append(msgs, turn)),
			ToolCalls:    tools.ResolveCalls(resp.ToolCalls, byName, nil),
		}}, nil
	}
	answer := strings.TrimSpace(thinking.ReplaceAllString(resp.Text, ""))
	// A model with tools at hand is asked without streaming: its answer goes whole.
	if topic := streamTo(req); topic != "" {
		n.PublishAnswer(ctx, topic, answer)
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	if err := n.remember(ctx, upstreamMemory(req), question, answer); err != nil {
		return node.Value{}, err
	}
	return node.TextValue(nd.Data.Name, answer), nil
}

// agentMessages are an agent's first turn: its system message, the memory's history, then
// the question (with the turn's documents).
func (n *Nodes) agentMessages(ctx context.Context, req node.Request, style agentStyle) ([]llm.Message, error) {
	system := style.system
	if style.ownSystem {
		if own := strings.TrimSpace(req.Node.Input("systemMessage")); own != "" {
			system = own
		}
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return nil, err
	}
	human := question
	if _, wired := chatflow.InstanceRef(req.Node.Data.Inputs["chatPromptTemplate"]); wired && style.promptTemplate {
		// As Flowise's Tool Agent: the template's system message, the memory, then its
		// human message with the question as {input}.
		p, err := upstreamPrompt(req, "chatPromptTemplate")
		if err != nil {
			return nil, err
		}
		if p, err = n.withVariables(ctx, req, p); err != nil {
			return nil, err
		}
		if p.Human != "" {
			values := map[string]string{"input": question}
			maps.Copy(values, p.Values)
			if system, err = fill(p.System, p.Values, question); err == nil {
				human, err = fill(p.Human, values, question)
			}
			if err != nil {
				return nil, nodekit.Classify(fmt.Errorf("%s: %w", req.Node.ID, err))
			}
		}
	}
	var msgs []llm.Message
	if system != "" {
		msgs = append(msgs, llm.Message{Role: llm.RoleSystem, Content: system})
	}
	if mem := upstreamMemory(req); mem != nil {
		for _, m := range mem.Messages {
			msgs = append(msgs, llm.Message{Role: nodekit.StoredRole(m.Role), Content: m.Content})
		}
	}
	return append(msgs, llm.Message{Role: llm.RoleUser, Content: human}), nil
}

// agentTools are the tool nodes wired into the agent's tools input, in its order: the order
// whose positions ToolCall.Entry names (the workflow reads the same list).
func agentTools(req node.Request) ([]*node.ToolNode, error) {
	ids := req.Node.ToolIDs()
	out := make([]*node.ToolNode, len(ids))
	for i, id := range ids {
		v := req.Upstream[id]
		if v.Tool == nil {
			return nil, nodekit.FlowError("%s: %s in its tools input is not a tool Flowgate runs in a chatflow (%s)", req.Node.ID, id,
				strings.Join(chatflowTools(), ", "))
		}
		out[i] = v.Tool
	}
	return out, nil
}

func chatflowTools() []string {
	var out []string
	for _, k := range node.Kinds() {
		if k.Chatflow {
			out = append(out, k.Name)
		}
	}
	return out
}
