package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// Bounds on a chat completion request, which is read whole before anything else (its model
// names the chatflow whose rules apply): smaller than a prediction's, which may carry files.
const (
	maxChatRequestBytes = 4 << 20
	maxChatMessages     = maxHistory + 1 // a history and the question
	maxContentParts     = 100
	maxModelName        = 255 // Flowise's chat_flow.name is a varchar(255)
)

// chatRequest is the part of OpenAI's chat completion request a chatflow can use; the
// sampling settings (temperature, max_tokens, tools, …) are the flow's own and are ignored.
type chatRequest struct {
	Model    string       `json:"model"`
	Messages chatMessages `json:"messages"`
	Stream   bool         `json:"stream"`
}

type chatMessage struct {
	Role    string      `json:"role"`
	Content chatContent `json:"content"`
}

// chatMessages are a request's messages, at most maxChatMessages.
type chatMessages []chatMessage

func (m *chatMessages) UnmarshalJSON(b []byte) error {
	return decodeBounded(b, (*[]chatMessage)(m), maxChatMessages, "messages")
}

// chatContent is a message's text: a string, null (an assistant turn that only called tools),
// or an array of text parts, joined. An assistant's refusal parts say nothing the chatflow
// uses and are left out. Other parts (images, audio, files) are refused: a chatflow takes
// files as uploads of Flowise's prediction API.
type chatContent string

func (t *chatContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, (*string)(t))
	case len(b) > 0 && b[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := decodeBounded(b, &parts, maxContentParts, "content parts"); err != nil {
			return err
		}
		var text strings.Builder
		for _, p := range parts {
			switch p.Type {
			case "text":
				text.WriteString(p.Text)
			case "refusal":
			default:
				return fmt.Errorf("content parts of type %q are not supported; send text", p.Type)
			}
		}
		*t = chatContent(text.String())
		return nil
	}
	return errors.New("a message's content must be a string or an array of text parts")
}

// parseChatRequest reads a chat completion request: a model and messages whose last is the
// user's question.
func parseChatRequest(raw []byte) (chatRequest, error) {
	var req chatRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return req, fmt.Errorf("invalid JSON body: %w", err)
	}
	switch {
	case req.Model == "":
		return req, errors.New("model is required: a chatflow's id or name")
	case len(req.Model) > maxModelName || !printable(req.Model):
		return req, fmt.Errorf("model must be a chatflow's id or name, at most %d printable characters", maxModelName)
	case len(req.Messages) == 0:
		return req, errors.New("messages must hold at least the user's question")
	}
	for i, m := range req.Messages {
		if _, ok := chatRoles[m.Role]; !ok {
			return req, fmt.Errorf("messages[%d]: role %q is not supported; use system, developer, user or assistant", i, m.Role)
		}
	}
	if last := req.Messages[len(req.Messages)-1]; last.Role != "user" {
		return req, errors.New("the last message must be the user's question (role user)")
	}
	return req, nil
}

// chatRoles maps OpenAI's roles to Flowise's history roles; "" marks the instructions a
// chatflow does not take (its prompts are its own), which are left out.
var chatRoles = map[string]string{
	"system":    "",
	"developer": "",
	"user":      models.RoleUser,
	"assistant": models.RoleAPI,
}

// predictionBody is the request as Flowise's prediction: the last message is the question,
// the user and assistant messages before it the history.
func (r chatRequest) predictionBody() predictionBody {
	last := len(r.Messages) - 1
	body := predictionBody{Question: string(r.Messages[last].Content), Streaming: flexBool(r.Stream)}
	for _, m := range r.Messages[:last] {
		if role := chatRoles[m.Role]; role != "" {
			body.History = append(body.History, node.Message{Role: role, Content: string(m.Content)})
		}
	}
	return body
}
