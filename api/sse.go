package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/flowgate/flowgate/stream"
	"github.com/flowgate/flowgate/workflows"
)

// sseWriter writes events in Flowise's framing: "message:\ndata:{"event":…,"data":…}\n\n".
type sseWriter struct {
	w   gin.ResponseWriter
	buf bytes.Buffer
}

func newSSEWriter(c *gin.Context) *sseWriter {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	return &sseWriter{w: c.Writer}
}

// event writes one event; data is a value or already encoded JSON (json.RawMessage).
func (w *sseWriter) event(name string, data any) error {
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
	w.buf.WriteString("\n\n")
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		return err
	}
	w.w.Flush()
	return nil
}

func (w *sseWriter) comment(text string) error {
	if _, err := w.w.WriteString(":" + text + "\n\n"); err != nil {
		return err
	}
	w.w.Flush()
	return nil
}

// predictStreaming answers as SSE: start, the ending node's tokens as the broker delivers them,
// then metadata and end; on failure error then end, with status 200 as Flowise does.
func (s *Server) predictStreaming(c *gin.Context, in workflows.PredictionInput) {
	// Subscribe before the run starts so the first token cannot be missed.
	sub := s.broker.Subscribe(in.Run.StreamTopic)
	defer sub.Close()
	run, ok := s.start(c, in)
	if !ok {
		return
	}
	// The request's own context, not the pooled gin.Context: the goroutine below may outlive
	// the handler by a moment.
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.PredictionTimeout)
	defer cancel()
	type outcome struct {
		res workflows.PredictionResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		o.err = run.Get(ctx, &o.res)
		done <- o
	}()

	w := newSSEWriter(c)
	if w.event("start", "") != nil {
		return
	}
	var tokens tokenDedup
	forward := func() bool {
		for _, ev := range sub.Drain() {
			data := ev.Data
			if ev.Name == "token" {
				rest, ok := tokens.add(ev)
				if !ok {
					continue
				}
				data = rest
			}
			if w.event(ev.Name, data) != nil {
				return false
			}
		}
		return true
	}
	idle := time.NewTimer(s.cfg.HeartbeatInterval)
	defer idle.Stop()
	for {
		select {
		case <-sub.Ready():
			if !forward() {
				return
			}
			idle.Reset(s.cfg.HeartbeatInterval) // heartbeats only on idle streams
		case o := <-done:
			// Every token was published before the node finished, so draining now delivers
			// the rest before metadata.
			if !forward() {
				return
			}
			if o.err != nil {
				_, msg := s.runError(o.err)
				_ = w.event("error", msg)
			} else {
				// Whatever did not arrive as tokens (a broker that dropped some, or a model
				// that answered at once) is sent now, so the tokens always add up to the text.
				if rest, ok := strings.CutPrefix(o.res.Text, tokens.sent.String()); ok && rest != "" {
					_ = w.event("token", rest)
				}
				_ = w.event("metadata", answer(in, o.res, true))
			}
			_ = w.event("end", "[DONE]")
			return
		case <-idle.C:
			if w.comment("heartbeat") != nil {
				return
			}
			idle.Reset(s.cfg.HeartbeatInterval)
		case <-c.Request.Context().Done():
			// The client left; the run goes on and its messages are saved.
			return
		}
	}
}

// tokenDedup makes a retried node's second stream invisible to the client: tokens of a new
// attempt are held back until that attempt has repeated what the client already has, and only
// what goes beyond it is sent.
type tokenDedup struct {
	sent    strings.Builder // what the client has received
	attempt int32
	current strings.Builder // what the current attempt has produced
}

// add takes a token event and returns the text to send, if any.
func (d *tokenDedup) add(ev stream.Event) (json.RawMessage, bool) {
	var tok string
	if json.Unmarshal(ev.Data, &tok) != nil {
		return nil, false
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
		return nil, false
	}
	d.sent.WriteString(rest)
	raw, _ := json.Marshal(rest)
	return raw, true
}
