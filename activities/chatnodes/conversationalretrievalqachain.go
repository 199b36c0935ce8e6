package chatnodes

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/workflows/node"
)

// Flowise's default prompts of the conversational retrieval QA chain.
const (
	rephraseTemplate = "Given the following conversation and a follow up question, rephrase the follow up question to be a standalone question.\n\n" +
		"Chat History:\n{chat_history}\nFollow Up Input: {question}\nStandalone Question:"
	responseTemplate = `I want you to act as a document that I am having a conversation with. Your name is "AI Assistant". Using the provided context, answer the user's question to the best of your ability using the resources provided.
If there is nothing in the context relevant to the question at hand, just say "Hmm, I'm not sure" and stop after that. Refuse to answer any question not about the info. Never break character.
------------
{context}
------------
REMEMBER: If there is no relevant information within the context, just say "Hmm, I'm not sure". Don't try to make up an answer. Never break character.`
	qaTemplate = "Use the following pieces of context to answer the question at the end.\n\n{context}\n\nQuestion: {question}\nHelpful Answer:"
)

// ConversationalRetrievalQAChain answers from documents with the conversation in mind: with
// history, the model first rephrases the question as a standalone one, which the retriever
// searches for; the answer then comes from the documents found (the response prompt's
// {context}), the history and the question. Without a memory node it reads the session's
// messages, as Flowise's built-in memory does. Only the answer streams.
func (n *Nodes) ConversationalRetrievalQAChain(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	model, err := upstreamModel(req, "model")
	if err != nil {
		return node.Value{}, err
	}
	r, err := retrieverOf(req, "vectorStoreRetriever")
	if err != nil {
		return node.Value{}, err
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	mem := upstreamMemory(req)
	if mem == nil {
		v, err := n.loadMemory(ctx, req, 0)
		if err != nil {
			return node.Value{}, err
		}
		mem = v.Memory
	}
	response := cmp.Or(nd.Input("responsePrompt"), responseTemplate)
	if sys := nd.Input("systemMessagePrompt"); sys != "" { // the deprecated input Flowise still honours
		response = sys + "\n" + qaTemplate
	}

	// Rephrase only when there is history: a first question has nothing to refer back to.
	search := question
	if len(mem.Messages) > 0 {
		lines := make([]string, len(mem.Messages))
		for i, m := range mem.Messages {
			role := "human"
			if nodekit.StoredRole(m.Role) == llm.RoleAssistant {
				role = "ai"
			}
			lines[i] = role + ": " + m.Content
		}
		prompt, err := fill(cmp.Or(nd.Input("rephrasePrompt"), rephraseTemplate),
			map[string]string{"chat_history": strings.Join(lines, "\n"), "question": question}, question)
		if err != nil {
			return node.Value{}, nodekit.Classify(fmt.Errorf("%s: rephrasePrompt: %w", nd.ID, err))
		}
		search, err = n.Chat(ctx, nodekit.Chat{NodeID: nd.ID, Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}}})
		if err != nil {
			return node.Value{}, err
		}
	}
	docs, err := n.Retrieve(ctx, r, search)
	if err != nil {
		return node.Value{}, err
	}
	chunks := make([]string, len(docs))
	for i, d := range docs {
		chunks[i] = fmt.Sprintf("<doc id='%d'>%s</doc>", i, d.PageContent)
	}
	system, err := fill(response, map[string]string{"context": strings.Join(chunks, "\n"), "question": question,
		"chat_history": ""}, question)
	if err != nil {
		return node.Value{}, nodekit.Classify(fmt.Errorf("%s: responsePrompt: %w", nd.ID, err))
	}
	msgs := []llm.Message{{Role: llm.RoleSystem, Content: system}}
	for _, m := range mem.Messages {
		msgs = append(msgs, llm.Message{Role: nodekit.StoredRole(m.Role), Content: m.Content})
	}
	msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: question})
	text, err := n.Chat(ctx, nodekit.Chat{NodeID: nd.ID, Model: model, Messages: msgs, StreamTo: streamTo(req)})
	if err != nil {
		return node.Value{}, err
	}
	if err := n.remember(ctx, mem, question, text); err != nil {
		return node.Value{}, err
	}
	out := node.TextValue(nd.Data.Name, text)
	if returnsSources(nd.Data.Inputs["returnSourceDocuments"]) {
		out.SourceDocuments = docs
	}
	return out, nil
}

func returnsSources(v any) bool { return v == true || v == "true" }
