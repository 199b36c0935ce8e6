package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

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
	ctx, cancel := context.WithTimeout(c, s.cfg.PredictionTimeout)
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
	var streamed strings.Builder // the tokens sent so far
	forward := func() bool {
		for _, ev := range sub.Drain() {
			if ev.Name == "token" {
				var tok string
				if json.Unmarshal(ev.Data, &tok) == nil {
					streamed.WriteString(tok)
				}
			}
			if w.event(ev.Name, ev.Data) != nil {
				return false
			}
		}
		return true
	}
	idle := time.NewTicker(s.cfg.HeartbeatInterval)
	defer idle.Stop()
	for {
		select {
		case <-sub.Ready():
			if !forward() {
				return
			}
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
				if rest, ok := strings.CutPrefix(o.res.Text, streamed.String()); ok && rest != "" {
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
		case <-c.Request.Context().Done():
			// The client left; the run goes on and its messages are saved.
			return
		}
	}
}
