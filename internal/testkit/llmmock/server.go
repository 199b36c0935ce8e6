// Package llmmock is an in-process fake of the OpenAI, Azure OpenAI, Anthropic,
// Gemini and Ollama chat APIs, tool calls included, and of the OpenAI and Ollama
// embeddings APIs. It answers deterministically
// so tests can assert on exact text, and it is cheap enough to sit behind load
// tests at high concurrency, which is why it is ordinary (non-test) code.
package llmmock

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// defaultMaxRecorded bounds the request log so long benchmarks keep a flat
// memory profile.
const defaultMaxRecorded = 10_000

// Options configures a Server.
type Options struct {
	// Addr is the listen address; empty means 127.0.0.1 on a free port.
	Addr string
	// Delay is waited before the first byte of a non-streamed answer or before
	// the first chunk of a streamed one, simulating model latency.
	Delay time.Duration
	// ChunkCount is how many pieces a streamed answer is cut into; 0 means 4.
	ChunkCount int
	// MaxRecorded caps how many requests Requests can return (the newest are
	// kept); 0 means 10,000 and a negative value disables recording.
	MaxRecorded int
	// Recall makes answers quote the conversation's first user message as well (see
	// AnswerRecalling), so a test that sees only the answers, as a browser user does, can
	// tell whether the model was sent the chat's history.
	Recall bool
}

// Server is a running mock. Its methods are safe for concurrent use.
type Server struct {
	// URL is the server's root, e.g. http://127.0.0.1:41234.
	URL string

	opts  Options
	srv   *http.Server
	done  chan struct{}
	calls atomic.Int64
	ids   atomic.Int64
	// inFlight and peak count completions being answered at once, to test concurrency bounds.
	inFlight, peak atomic.Int64
	delay          atomic.Int64 // time.Duration
	chunkDelay     atomic.Int64 // time.Duration

	mu       sync.Mutex // guards the fields below; held only for O(1) work
	log      requestLog
	failLeft int
	failCode int
}

// Start listens and serves in the background until Close.
func Start(opts Options) (*Server, error) {
	if opts.ChunkCount <= 0 {
		opts.ChunkCount = 4
	}
	if opts.MaxRecorded == 0 {
		opts.MaxRecorded = defaultMaxRecorded
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("llmmock: listen %s: %w", addr, err)
	}
	s := &Server{
		URL:  "http://" + ln.Addr().String(),
		opts: opts,
		done: make(chan struct{}),
		log:  newRequestLog(opts.MaxRecorded),
	}
	s.delay.Store(int64(opts.Delay))
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		// Serve only returns on Close or a broken listener; in the latter case
		// clients see connection errors, which is the signal they need.
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// NewTestServer starts a Server that is closed when the test ends.
func NewTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("start llm mock: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and drops open connections, including streams that
// are still waiting out a delay.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}

// SetDelay changes the latency applied to subsequent requests.
func (s *Server) SetDelay(d time.Duration) { s.delay.Store(int64(d)) }

// SetChunkDelay makes streamed answers pause d between their events, so that a test can come
// upon a stream in the middle of its answer; 0 turns it off.
func (s *Server) SetChunkDelay(d time.Duration) { s.chunkDelay.Store(int64(d)) }

// FailNext makes the next n completion requests answer status with an error
// body shaped like the real provider's.
func (s *Server) FailNext(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failLeft, s.failCode = n, status
}

// Calls reports how many well-formed completion requests arrived, including
// those answered with a FailNext status.
func (s *Server) Calls() int { return int(s.calls.Load()) }

// PeakConcurrency is the most completions the mock was answering at the same time since the
// last Reset.
func (s *Server) PeakConcurrency() int { return int(s.peak.Load()) }

func (s *Server) enter() {
	n := s.inFlight.Add(1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (s *Server) leave() { s.inFlight.Add(-1) }

// Requests returns the recorded completion requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.snapshot()
}

// Reset forgets calls, recorded requests and pending failures, and restores
// the delay given in Options.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.Store(0)
	s.peak.Store(s.inFlight.Load())
	s.log.clear()
	s.failLeft, s.failCode = 0, 0
	s.delay.Store(int64(s.opts.Delay))
	s.chunkDelay.Store(0)
}

// admit counts and records a request and reports the failure status it must
// answer with, if any.
func (s *Server) admit(req Request) (failStatus int) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log.add(req)
	if s.failLeft > 0 {
		s.failLeft--
		return s.failCode
	}
	return 0
}

// wait sleeps for the configured delay, returning false if the client went
// away first.
func (s *Server) wait(ctx context.Context) bool {
	return sleep(ctx, time.Duration(s.delay.Load()))
}

// sleep waits d, returning false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) nextID(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, s.ids.Add(1))
}
