package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Error kinds, the keys of Report.Errors. A non-2xx answer counts as "http_<status>".
const (
	ErrTransport        = "transport"         // connection refused or reset, bad response framing
	ErrTimeout          = "timeout"           // no complete answer within Options.Timeout
	ErrSSE              = "sse_error"         // the stream carried an "error" event
	ErrIncompleteStream = "incomplete_stream" // the stream ended without an "end" event
	ErrBadBody          = "bad_body"          // 2xx with a body that is not what Flowise sends
	ErrNotStreamed      = "not_streamed"      // streaming asked, JSON answered
	ErrDropped          = "dropped"           // open model: not sent, the in-flight cap was reached
	ErrCanceled         = "canceled"          // the run itself was stopped (Ctrl-C)
)

func statusKind(code int) string { return fmt.Sprintf("http_%d", code) }

// outcome is one request's result.
type outcome struct {
	warmup     bool
	start, end time.Time
	ttft, ttlt time.Duration // streaming only; zero when no token came
	kind       string        // empty on success
	detail     string        // what went wrong, for the report's examples
}

func (o outcome) latency() time.Duration { return o.end.Sub(o.start) }

// maxBody bounds how much of a JSON answer is read.
const maxBody = 16 << 20

// predict sends one prediction and classifies its result. runCtx is the run's context: a
// request cut short by it is "canceled", one cut short by its own deadline a "timeout".
func (r *runner) predict(runCtx context.Context, tk ticket) outcome {
	ctx, cancel := context.WithTimeout(runCtx, r.o.Timeout)
	defer cancel()
	out := outcome{warmup: tk.warmup, start: time.Now()}
	fail := func(kind string, err error) outcome {
		out.end = time.Now()
		switch {
		case runCtx.Err() != nil:
			out.kind = ErrCanceled
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			out.kind = ErrTimeout
		default:
			out.kind = kind
		}
		if err != nil {
			out.detail = err.Error()
		}
		return out
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(r.body(tk)))
	if err != nil {
		return fail(ErrTransport, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.o.APIKey)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fail(ErrTransport, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Read a little, so the example says why, and let the connection be reused.
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return fail(statusKind(resp.StatusCode), fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg))))
	}

	if !r.o.Streaming {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil {
			return fail(ErrTransport, fmt.Errorf("read answer: %w", err))
		}
		if !json.Valid(body) {
			return fail(ErrBadBody, fmt.Errorf("answer is not JSON: %q", truncate(body, 200)))
		}
		out.end = time.Now()
		return out
	}

	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "text/event-stream" {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		return fail(ErrNotStreamed, fmt.Errorf("content type %q", resp.Header.Get("Content-Type")))
	}
	res, err := readSSE(resp.Body, time.Now)
	if err != nil {
		return fail(ErrTransport, fmt.Errorf("read stream: %w", err))
	}
	out.end = time.Now()
	if res.tokens > 0 {
		out.ttft, out.ttlt = res.firstToken.Sub(out.start), res.lastToken.Sub(out.start)
	}
	switch {
	case res.sawError:
		return fail(ErrSSE, errors.New(res.errorMessage))
	case !res.ended:
		return fail(ErrIncompleteStream, errors.New("the stream closed before its end event"))
	}
	return out
}

// body is the request's JSON: the question, a chat of its own (unless SameChat) and the
// streaming flag.
func (r *runner) body(tk ticket) []byte {
	chat := r.chatPrefix
	if !r.o.SameChat {
		chat = fmt.Sprintf("%s-%d", r.chatPrefix, tk.index)
	}
	b, _ := json.Marshal(struct {
		Question  string `json:"question"`
		ChatID    string `json:"chatId"`
		Streaming bool   `json:"streaming,omitempty"`
	}{r.o.Question, chat, r.o.Streaming})
	return b
}
