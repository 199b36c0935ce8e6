package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"time"
)

// keyLine is how `flowgate start` shows the API key it made at first start.
var keyLine = regexp.MustCompile(`API key DefaultKey \(shown once, keep it\): (\S+)`)

// ProcessSpec is a flowgate process to start.
type ProcessSpec struct {
	Name  string   // for messages, e.g. "api-1"
	Bin   string   // the flowgate binary
	Args  []string // e.g. ["start"]
	Env   []string // the whole environment: nothing is inherited
	Ready *regexp.Regexp
	// ReadyTimeout bounds the wait for the Ready line (default 2 min: the embedded Temporal
	// server migrates its database at first start).
	ReadyTimeout time.Duration
	LogPath      string // stdout and stderr go here
}

// Process is a started flowgate process.
type Process struct {
	Name  string
	Match []string // submatches of the ready line
	Key   string   // the DefaultKey it printed, if it made one

	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
	err    error // set before exited closes
}

// StartProcess starts spec and waits until it prints its ready line. The child gets its own
// process group, so a Ctrl-C in the terminal reaches only the benchmark, which then stops its
// children in order; and it is killed if the benchmark itself dies.
func StartProcess(ctx context.Context, spec ProcessSpec) (*Process, error) {
	if spec.ReadyTimeout == 0 {
		spec.ReadyTimeout = 2 * time.Minute
	}
	log, err := os.Create(spec.LogPath)
	if err != nil {
		return nil, fmt.Errorf("%s: create log: %w", spec.Name, err)
	}
	cmd := exec.Command(spec.Bin, spec.Args...)
	cmd.Env = spec.Env
	cmd.Stderr = log
	// Pdeathsig fires when the OS thread that forked exits, not only the process; the Go
	// runtime keeps its threads unless a goroutine exits while locked to one, which the
	// benchmark never does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		log.Close()
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, cmd: cmd, log: log, exited: make(chan struct{})}

	// The goroutine writes p.Key only before it sends the ready line, so the channel orders
	// that write before the caller's reads.
	ready := make(chan []string, 1)
	go func() {
		// Every line goes to the log; the scan stops looking once ready, but keeps draining so
		// the process never blocks on a full pipe.
		sc := bufio.NewScanner(io.TeeReader(stdout, log))
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			if found {
				continue
			}
			line := sc.Text()
			if m := keyLine.FindStringSubmatch(line); m != nil {
				p.Key = m[1]
			}
			if m := spec.Ready.FindStringSubmatch(line); m != nil {
				found = true
				ready <- m
			}
		}
		_, _ = io.Copy(log, stdout) // a line longer than the buffer stops the scanner
		p.err = cmd.Wait()
		close(p.exited)
	}()

	timer := time.NewTimer(spec.ReadyTimeout)
	defer timer.Stop()
	select {
	case p.Match = <-ready:
		return p, nil
	case <-p.exited:
		err = fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", spec.Name, p.err, p.Tail(30))
	case <-timer.C:
		err = fmt.Errorf("%s printed no ready line within %s; its log:\n%s", spec.Name, spec.ReadyTimeout, p.Tail(30))
	case <-ctx.Done():
		err = fmt.Errorf("start %s: %w", spec.Name, ctx.Err())
	}
	_ = p.Stop(5 * time.Second)
	return nil, err
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM (flowgate shuts down gracefully on it), waits up to grace, then kills the
// process; it returns once the process is gone, or after a further 10 s if it cannot be reaped.
func (p *Process) Stop(grace time.Duration) error {
	defer p.log.Close()
	select {
	case <-p.exited:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
		var exit *exec.ExitError
		if p.err != nil && !errors.As(p.err, &exit) {
			return fmt.Errorf("%s: %w", p.Name, p.err)
		}
		return nil
	case <-timer.C:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
		return fmt.Errorf("%s did not stop within %s of SIGTERM and was killed", p.Name, grace)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) could not be reaped after SIGKILL", p.Name, p.PID())
	}
}

// Tail returns the last n lines of the process's log.
func (p *Process) Tail(n int) string {
	raw, err := os.ReadFile(p.log.Name())
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(raw, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
