package extract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Parsers we cannot bound by design run in a child process: this same
// executable, started again with a hidden first argument (childArg). Whatever
// the file does to the parser, a loop, a runaway allocation or a fatal stack
// overflow, it happens in the child, which the parent kills at the deadline
// and the kernel stops at its memory and CPU limits. The parent reads the
// answer with a cap and turns every way the child can fail into an error
// naming the file and the limit.
//
// Protocol: the request (childRequest) is the argument after childArg, the
// file arrives on stdin. The child answers on stdout with one JSON line
// (childStatus) followed by the text; it exits 0 whenever it answered, even
// if the file could not be read.

const (
	childArg = "__flowgate-extract-child"
	// childEnv is set in a child's environment. A child never starts another
	// one: if an executable lacks the ServeChild hook, its child runs the
	// program again instead of extracting, and this stops that recursing.
	childEnv = "FLOWGATE_EXTRACT_CHILD"
	// exitSetup is the child's exit code when it could not set itself up:
	// the server's fault, not the file's.
	exitSetup = 3
	// childMaxStack bounds a child goroutine's stack (Go's default is 1 GB),
	// so runaway recursion in a parser fails fast.
	childMaxStack = 64 << 20
	// answerSlack is room on stdout for the status line and the truncation
	// note beyond the text cap; childMaxError keeps the status line within it.
	answerSlack   = 16 << 10
	childMaxError = 1 << 10
	// stderrHead is how much of a failed child's stderr is kept: a Go
	// crash names its cause in the first lines.
	stderrHead = 4 << 10
)

// childSlots bounds the children running at once, so concurrent uploads
// take at most that many cores and memory budgets; more wait their turn.
var childSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// IsChild reports whether this process was started to extract one file.
// Then main, and TestMain in packages whose tests extract files, must return
// ServeChild's exit code before starting anything else:
//
//	if extract.IsChild() {
//		os.Exit(extract.ServeChild())
//	}
func IsChild() bool { return len(os.Args) > 1 && os.Args[1] == childArg }

// childRequest is what the parent asks of a child.
type childRequest struct {
	Kind      kind          `json:"kind"`
	Charset   string        `json:"charset,omitempty"`
	MaxText   int           `json:"maxText"`
	MaxMemory int64         `json:"maxMemory"`
	Timeout   time.Duration `json:"timeout"`
}

// childStatus is the first line of a child's answer.
type childStatus struct {
	Error string `json:"error,omitempty"` // why the file could not be read
}

// childResult is a child's text and what producing it cost.
type childResult struct {
	text   string
	wall   time.Duration
	cpu    time.Duration
	maxRSS int64 // peak resident memory in bytes; 0 where the OS does not say
}

// isolated extracts data in a child process under e's limits.
func (e Extractor) isolated(ctx context.Context, name string, k kind, data []byte, charset string) (childResult, error) {
	if os.Getenv(childEnv) != "" {
		return childResult{}, errors.New("extract: an extraction child may not start another; " +
			"does this executable return extract.ServeChild() when extract.IsChild()?")
	}
	select {
	case childSlots <- struct{}{}:
		defer func() { <-childSlots }()
	case <-ctx.Done():
		return childResult{}, fmt.Errorf("extract %s: %w", name, ctx.Err())
	}
	exe, err := executable()
	if err != nil {
		return childResult{}, fmt.Errorf("extract: find own executable: %w", err)
	}
	req, err := json.Marshal(childRequest{Kind: k, Charset: charset, MaxText: e.MaxTextBytes, MaxMemory: e.MaxMemoryBytes, Timeout: e.Timeout})
	if err != nil {
		return childResult{}, fmt.Errorf("extract: encode child request: %w", err)
	}

	deadline, cancel := context.WithTimeout(ctx, e.Timeout)
	defer cancel()
	cmd := exec.CommandContext(deadline, exe, childArg, string(req))
	cmd.Env = []string{childEnv + "=1"} // none of the server's secrets
	cmd.Stdin = bytes.NewReader(data)
	stdout := &headWriter{max: e.MaxTextBytes + answerSlack}
	stderr := &headWriter{max: stderrHead}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second // for the pipes, once the child is killed
	start := time.Now()
	runErr := cmd.Run()

	var res childResult
	if ps := cmd.ProcessState; ps != nil {
		res = childResult{wall: time.Since(start), cpu: ps.UserTime() + ps.SystemTime(), maxRSS: maxRSS(ps)}
	}
	fault := func(reason error) (childResult, error) { return res, &unreadable{name: name, reason: reason} }
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("extract %s: %w", name, ctx.Err())
	case runErr == nil:
		return readAnswer(name, res, stdout)
	case deadline.Err() != nil:
		return fault(&limitExceeded{e.Timeout.String()})
	case !errors.As(runErr, &exit):
		return res, fmt.Errorf("extract %s: run child process: %w", name, runErr)
	case exit.ExitCode() == exitSetup:
		return res, fmt.Errorf("extract %s: child process failed to start: %s", name, crashLine(stderr.buf))
	case outOfMemory(stderr.buf):
		return fault(&limitExceeded{memoryLimit(e.MaxMemoryBytes)})
	case exit.ExitCode() == -1: // killed, not by us: the CPU limit or the kernel's OOM killer
		if res.cpu >= e.Timeout {
			return fault(&limitExceeded{e.Timeout.String()})
		}
		return fault(&limitExceeded{memoryLimit(e.MaxMemoryBytes)})
	default:
		return fault(fmt.Errorf("its parser failed (%s)", crashLine(stderr.buf)))
	}
}

// readAnswer reads the answer of a child that exited normally.
func readAnswer(name string, res childResult, stdout *headWriter) (childResult, error) {
	line, text, ok := bytes.Cut(stdout.buf, []byte("\n"))
	var status childStatus
	if !ok || json.Unmarshal(line, &status) != nil {
		return res, fmt.Errorf("extract %s: child process answered %q; "+
			"does the executable return extract.ServeChild() when extract.IsChild()?", name, line[:min(len(line), 100)])
	}
	if stdout.dropped > 0 {
		return res, fmt.Errorf("extract %s: child process wrote more than %d bytes", name, stdout.max)
	}
	if status.Error != "" {
		return res, &unreadable{name: name, reason: errors.New(status.Error)}
	}
	res.text = string(text)
	return res, nil
}

// ServeChild extracts the file a parent process sent and returns the exit
// code; see IsChild.
func ServeChild() int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "extract child: "+format+"\n", args...)
		return exitSetup
	}
	if len(os.Args) != 3 {
		return fail("want one argument after %s, got %d", childArg, len(os.Args)-2)
	}
	var req childRequest
	if err := json.Unmarshal([]byte(os.Args[2]), &req); err != nil {
		return fail("decode request: %v", err)
	}
	runtime.GOMAXPROCS(1) // one core per file
	debug.SetMaxStack(childMaxStack)
	// The soft limit makes the collector work harder before the hard one
	// (setLimits) fails an allocation.
	debug.SetMemoryLimit(req.MaxMemory)
	if err := setLimits(req.MaxMemory, req.Timeout); err != nil {
		return fail("set limits: %v", err)
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return fail("read input: %v", err)
	}

	out := newTextBuf(req.MaxText)
	var status childStatus
	if err := req.Kind.extract(context.Background(), data, req.Charset, out); err != nil && !errors.Is(err, errFull) {
		status.Error = err.Error()
		if len(status.Error) > childMaxError {
			status.Error = strings.ToValidUTF8(status.Error[:childMaxError], "") + "…"
		}
	}
	w := bufio.NewWriter(os.Stdout)
	if err := json.NewEncoder(w).Encode(status); err != nil {
		return fail("encode answer: %v", err)
	}
	if _, err := w.WriteString(out.String()); err != nil {
		return fail("write answer: %v", err)
	}
	if err := w.Flush(); err != nil {
		return fail("write answer: %v", err)
	}
	return 0
}

// headWriter keeps the first max bytes written to it and counts the rest.
// It never fails, so a chatty child is not left blocked on a full pipe.
type headWriter struct {
	buf     []byte
	max     int
	dropped int64
}

func (w *headWriter) Write(p []byte) (int, error) {
	keep := min(len(p), w.max-len(w.buf))
	w.buf = append(w.buf, p[:keep]...)
	w.dropped += int64(len(p) - keep)
	return len(p), nil
}

// outOfMemory reports whether a child's stderr is the Go runtime failing to
// get memory, which is how hitting RLIMIT_AS shows.
func outOfMemory(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("out of memory")) || bytes.Contains(stderr, []byte("cannot allocate memory"))
}

// crashLine picks the line of a crashed child's stderr that says why.
func crashLine(stderr []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	line := lines[0]
	for _, l := range lines {
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "extract child:") {
			line = l
			break
		}
	}
	if line == "" {
		return "no message"
	}
	return strings.ToValidUTF8(line[:min(len(line), 200)], "")
}

func memoryLimit(n int64) string {
	return fmt.Sprintf("%d MiB of memory", n>>20)
}
