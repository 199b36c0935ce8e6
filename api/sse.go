package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// sseWriter writes events in Flowise's framing: "message:\ndata:{"event":…,"data":…}\n\n".
type sseWriter struct {
	w   gin.ResponseWriter
	buf bytes.Buffer
	// topic, when set, makes events carry "id:<topic>.<seq>" so a client can resume.
	topic string
}

func newSSEWriter(c *gin.Context, topic string) *sseWriter {
	startSSE(c)
	return &sseWriter{w: c.Writer, topic: topic}
}

// startSSE begins an event stream: its headers, which keep proxies from buffering it, and 200.
func startSSE(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
}

// event writes one event; data is a value or already encoded JSON (json.RawMessage). An event
// with a broker sequence number gets an id line after its data line, where clients that read
// Flowise's two-line framing do not trip over it.
func (w *sseWriter) event(name string, data any, seq int64) error {
	w.buf.Reset()
	w.buf.WriteString("message:\ndata:")
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Event string `json:"event"`
		Data  any    `json:"data"`
	}{name, data}); err != nil {
		return err
	}
	w.buf.Truncate(w.buf.Len() - 1) // Encode's newline
	if w.topic != "" && seq > 0 {
		fmt.Fprintf(&w.buf, "\nid:%s.%d", w.topic, seq)
	}
	w.buf.WriteString("\n\n")
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		return err
	}
	w.w.Flush()
	return nil
}

func (w *sseWriter) comment(text string) error {
	return w.frame(":" + text + "\n\n")
}

// data writes one event in the plain SSE framing OpenAI's clients read: "data: <value>\n\n";
// a string is written as it is ("[DONE]"), anything else as JSON.
func (w *sseWriter) data(v any) error {
	text, ok := v.(string)
	if !ok {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		text = string(raw)
	}
	return w.frame("data: " + text + "\n\n")
}

// frame writes an encoded event and sends it on at once.
func (w *sseWriter) frame(text string) error {
	if _, err := w.w.WriteString(text); err != nil {
		return err
	}
	w.w.Flush()
	return nil
}

// runInfo is the first event of a resumable stream: what an API replica that did not start
// the run needs to follow it and to close the stream the way Flowise does.
type runInfo struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	ChatID     string `json:"chatId"`
	SessionID  string `json:"sessionId"`
	Question   string `json:"question"`
}

// resumer is a broker that keeps events, so a client can reconnect and continue.
type resumer interface {
	SubscribeAfter(topic string, after int64) stream.Subscription
}

// predictStreaming answers a started chatflow turn as SSE: start, the ending node's tokens as
// the broker delivers them, then metadata and end; on failure error then end, with status 200
// as Flowise does. With a broker that keeps events the stream is resumable: its first broker
// event describes the run, and every event the client gets carries an id.
func (p *predictions) predictStreaming(c *gin.Context, t chatTurn) {
	in := t.in
	info := runInfo{WorkflowID: t.run.GetID(), RunID: t.run.GetRunID(), ChatID: in.Run.ChatID, SessionID: in.Run.SessionID, Question: in.Run.Question}
	topic := ""
	if _, ok := p.broker.(resumer); ok {
		if err := p.broker.Publish(c, in.Run.Topic, 0, node.RunEvent, info); err != nil {
			p.log.Warn("stream will not be resumable", "error", err)
		} else {
			topic = in.Run.Topic
		}
	}
	w := newSSEWriter(c, topic)
	if w.event("start", "", 0) != nil {
		return
	}
	a := &streamAnswer{p: p, w: w, info: info, joinedLate: p.joinedLate(t.startedRun)}
	await(c, p.chatflowTurn(t.startedRun), observe[workflows.PredictionResult](c, false, true, answerOnSave{a}))
}

// resumeStreaming continues a stream after the event id a reconnecting client last saw
// (Last-Event-ID), on whichever replica the client reached.
func (p *predictions) resumeStreaming(c *gin.Context, chatflowID, lastEventID string) {
	r, ok := p.broker.(resumer)
	topic, seqText, found := strings.Cut(lastEventID, ".")
	last, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || !found || err != nil || topic == "" || !printable(topic) {
		fail(c, http.StatusBadRequest, "Last-Event-ID %q does not name a stream this server can resume", lastEventID)
		return
	}
	sub := p.counted(r.SubscribeAfter(topic, 0))
	defer sub.Close()
	var info runInfo
	var replay []stream.Event
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for info.WorkflowID == "" {
		select {
		case <-sub.Ready():
			for _, ev := range sub.Drain() {
				if ev.Name == node.RunEvent {
					_ = json.Unmarshal(ev.Data, &info)
				} else {
					replay = append(replay, ev)
				}
			}
		case <-deadline.C:
			fail(c, http.StatusNotFound, "Stream %s not found or expired", topic)
			return
		case <-c.Request.Context().Done():
			return
		}
	}
	// The stream must be this chatflow's: a public chatflow is no way into a key-bound one's.
	if !strings.HasPrefix(info.WorkflowID, node.WorkflowID(chatflowID, "")) {
		fail(c, http.StatusNotFound, "Stream %s not found or expired", topic)
		return
	}
	t := p.turn(sub, p.temporal.GetWorkflow(c.Request.Context(), info.WorkflowID, info.RunID))
	t.replay = replay
	await(c, t, answerOnSave{&streamAnswer{p: p, w: newSSEWriter(c, topic), info: info, after: last}})
}

// streamAnswer answers a chatflow turn as Flowise's SSE stream, after its start event.
type streamAnswer struct {
	p    *predictions
	w    *sseWriter
	info runInfo
	// after is the last event a reconnecting client had; events up to it only count as sent.
	after int64
	// joinedLate: the reader subscribed after the run began, to a broker that keeps no events,
	// so the tokens it gets may start mid-answer; it gets the answer whole when it is saved.
	joinedLate bool
	tokens     tokenDedup
}

func (a *streamAnswer) event(ev stream.Event) error {
	var data any = ev.Data
	if ev.Name == node.TokenEvent {
		if a.joinedLate {
			return nil
		}
		rest, ok := a.tokens.add(ev)
		if !ok {
			return nil
		}
		data = rest
	}
	if ev.Seq <= a.after {
		return nil // the client has it
	}
	return a.w.event(ev.Name, data, ev.Seq)
}

func (a *streamAnswer) ended(res workflows.PredictionResult, err error) {
	if err != nil {
		_, msg := a.p.runError(err)
		_ = a.w.event("error", msg, 0)
	} else {
		// Whatever did not arrive as tokens (a broker that dropped some, or a model that
		// answered at once) is sent now, so the tokens always add up to the text.
		if rest, ok := a.tokens.rest(res.Text); ok {
			_ = a.w.event(node.TokenEvent, rest, 0)
		}
		// A retrieval chain's or an agent's documents, and an agent's tools, as Flowise sends
		// them after the tokens.
		if len(res.SourceDocuments) > 0 {
			_ = a.w.event("sourceDocuments", res.SourceDocuments, 0)
		}
		if len(res.UsedTools) > 0 {
			_ = a.w.event("usedTools", res.UsedTools, 0)
		}
		_ = a.w.event("metadata", metadata(a.info, res), 0)
	}
	_ = a.w.event("end", "[DONE]", 0)
}

func (a *streamAnswer) idle() error { return a.w.comment("heartbeat") }

// metadata is the stream's closing summary, as Flowise sends it.
func metadata(info runInfo, res workflows.PredictionResult) gin.H {
	out := gin.H{"chatId": info.ChatID, "chatMessageId": res.ChatMessageID, "question": info.Question, "sessionId": info.SessionID}
	if res.MemoryType != "" {
		out["memoryType"] = res.MemoryType
	}
	if res.FlowVariables != nil {
		out["flowVariables"] = res.FlowVariables
	}
	return out
}

// tokenDedup makes a retried node's second stream invisible to the client: tokens of a new
// attempt are held back until that attempt has repeated what the client already has, and only
// what goes beyond it is sent.
type tokenDedup struct {
	sent    strings.Builder // what the client has received
	attempt int32
	current strings.Builder // what the current attempt has produced
}

// rest is what of text the client has not received as tokens, when there is some and the
// tokens sent are its beginning (a run whose tokens say something else is left as it is).
func (d *tokenDedup) rest(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, d.sent.String())
	return rest, ok && rest != ""
}

// add takes a token event and returns the text to send, if any.
func (d *tokenDedup) add(ev stream.Event) (string, bool) {
	var tok string
	if json.Unmarshal(ev.Data, &tok) != nil {
		return "", false
	}
	if ev.Attempt != d.attempt {
		d.attempt = ev.Attempt
		d.current.Reset()
	}
	d.current.WriteString(tok)
	rest, ok := strings.CutPrefix(d.current.String(), d.sent.String())
	if !ok || rest == "" {
		// Either still repeating what was sent, or a retry that answered differently: the
		// client cannot unsee tokens, so nothing more is streamed from this attempt.
		return "", false
	}
	d.sent.WriteString(rest)
	return rest, true
}
