package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"

	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// Bounds on the open-ended parts of a prediction body. The body as a whole is bounded by
// FLOWISE_FILE_SIZE_LIMIT; these keep what a request costs in memory close to its size, since
// decoding JSON into generic values costs tens of times the bytes they take on the wire.
const (
	maxObjectBytes = 256 << 10 // overrideConfig, form
	maxHistory     = 1000      // messages of history
	maxUploads     = 100       // uploads of one turn
)

var errBodyLimit = errors.New("prediction body exceeds a limit")

// predictionBody is Flowise's prediction request, decoded into the shape the route needs:
// overrideConfig and form stay the caller's JSON, bounded, and are read only as far as the
// chatflow uses them; lists are bounded while they are decoded.
type predictionBody struct {
	Question       string    `json:"question"`
	Streaming      flexBool  `json:"streaming"`
	OverrideConfig rawObject `json:"overrideConfig"`
	ChatID         string    `json:"chatId"`
	History        history   `json:"history"`
	LeadEmail      string    `json:"leadEmail"`
	Uploads        uploads   `json:"uploads"`
	Form           rawObject `json:"form"`
	// HumanInput answers an agentflow stopped for human input (same chatId).
	HumanInput *workflows.HumanInput `json:"humanInput"`
}

// sessionID is the overrideConfig sessionId, if the caller gave one.
func (b predictionBody) overrideSessionID() string {
	var o struct {
		SessionID any `json:"sessionId"`
	}
	_ = b.OverrideConfig.decode(&o)
	s, _ := o.SessionID.(string)
	return s
}

// sessionID is the conversation the request names, as the prediction resolves it: the
// overrideConfig sessionId, else the chatId.
func (b predictionBody) sessionID() string {
	return cmp.Or(b.overrideSessionID(), b.ChatID)
}

// conversation resolves the chat and session of a turn as Flowise does: chatId, else the
// overrideConfig sessionId, else a new id; the session defaults to the chat.
func (b predictionBody) conversation() (chatID, sessionID string) {
	sessionID = b.overrideSessionID()
	chatID = cmp.Or(b.ChatID, sessionID, uuid.NewString())
	return chatID, cmp.Or(sessionID, chatID)
}

// requestedVars are the overrideConfig vars the caller sent.
func (b predictionBody) requestedVars() map[string]any {
	var o struct {
		Vars map[string]any `json:"vars"`
	}
	_ = b.OverrideConfig.decode(&o)
	return o.Vars
}

// rawObject is a JSON object (or null) kept as sent, at most maxObjectBytes.
type rawObject json.RawMessage

func (r *rawObject) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*r = nil
		return nil
	case len(b) > maxObjectBytes:
		return fmt.Errorf("%w: an object field is %d bytes, at most %d are accepted", errBodyLimit, len(b), maxObjectBytes)
	case len(b) == 0 || b[0] != '{':
		return errors.New("overrideConfig and form must be JSON objects")
	}
	*r = append((*r)[:0], b...)
	return nil
}

// decode reads the object into v; an absent object leaves v as it is.
func (r rawObject) decode(v any) error {
	if len(r) == 0 {
		return nil
	}
	return json.Unmarshal(r, v)
}

// object is the whole object, for a chatflow whose overrides are on or an agentflow's form.
func (r rawObject) object() (map[string]any, error) {
	var m map[string]any
	err := r.decode(&m)
	return m, err
}

// history is a prediction's history, at most maxHistory messages.
type history []node.Message

func (h *history) UnmarshalJSON(b []byte) error {
	return decodeBounded(b, (*[]node.Message)(h), maxHistory, "history messages")
}

// uploads are a turn's uploads, at most maxUploads.
type uploads []uploadBody

func (u *uploads) UnmarshalJSON(b []byte) error {
	return decodeBounded(b, (*[]uploadBody)(u), maxUploads, "uploads")
}

// decodeBounded decodes a JSON array of at most n elements into out, refusing a longer one as
// it is read rather than after.
func decodeBounded[T any](data []byte, out *[]T, n int, what string) error {
	if string(bytes.TrimSpace(data)) == "null" {
		*out = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("%s must be a JSON array", what)
	}
	list := (*out)[:0]
	for dec.More() {
		if len(list) == n {
			return fmt.Errorf("%w: at most %d %s are accepted", errBodyLimit, n, what)
		}
		var v T
		if err := dec.Decode(&v); err != nil {
			return err
		}
		list = append(list, v)
	}
	*out = list
	return nil
}

// flexBool accepts true and "true", as Flowise clients send either.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	*b = flexBool(s == "true")
	return nil
}

// mergeOverrides adds entries to an overrideConfig, as a multipart prediction's plain fields
// are.
func mergeOverrides(o *rawObject, entries map[string]any) error {
	merged, err := o.object()
	if err != nil {
		return fmt.Errorf("overrideConfig: %w", err)
	}
	if merged == nil {
		merged = map[string]any{}
	}
	maps.Copy(merged, entries)
	raw, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	return o.UnmarshalJSON(raw)
}
