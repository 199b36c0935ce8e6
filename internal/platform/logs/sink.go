package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

// ErrClosed is returned by Sink methods after Close.
var ErrClosed = errors.New("logs: sink closed")

// Sink is the rotating segment writer behind the logger. Writes go to a local
// file only; closed segments are shipped to the Uploader in the background.
// A Sink with neither Dir nor Uploader accepts nothing and its methods are
// no-ops.
type Sink struct {
	opts    Options
	dir     string // where segments live ("" = disabled)
	spool   bool   // dir is a private temp dir: delete segments once shipped
	enabled bool

	mu           sync.Mutex
	cur          *segment
	file         *os.File
	lastStart    time.Time
	pending      []*segment // closed, not yet uploaded, oldest first
	pendingBytes int64
	closed       bool
	failing      bool // last write failed; report only the first of a streak

	reports *reporter

	kick     chan struct{}   // a segment was queued (cap 1, never blocks)
	flushReq chan chan error // Flush/Close asks for a shipping round
	base     context.Context // cancelled when the Sink shuts down
	cancel   context.CancelFunc
	shipDone chan struct{}
	tickStop chan struct{}
	tickDone chan struct{}
}

// newSink prepares the segment directory and starts the background work.
func newSink(o Options) (*Sink, error) {
	s := &Sink{opts: o}
	switch {
	case o.Dir != "":
		if err := fsperm.MkdirAll(o.Dir); err != nil {
			return nil, fmt.Errorf("logs: create log dir: %w", err)
		}
		s.dir = o.Dir
	case o.Uploader != nil:
		d, err := os.MkdirTemp("", "flowgate-logs-*")
		if err != nil {
			return nil, fmt.Errorf("logs: create spool dir: %w", err)
		}
		s.dir, s.spool = d, true
	default:
		return s, nil
	}
	s.enabled = true
	s.reports = newReporter(o.OnError)
	s.base, s.cancel = context.WithCancel(context.Background())
	if o.Uploader != nil {
		s.kick = make(chan struct{}, 1)
		s.flushReq = make(chan chan error)
		s.shipDone = make(chan struct{})
		go s.shipLoop()
	}
	if o.Now == nil {
		s.tickStop, s.tickDone = make(chan struct{}), make(chan struct{})
		go s.tickLoop()
	}
	return s, nil
}

func (s *Sink) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now().UTC()
	}
	return time.Now().UTC()
}

// Write appends one log record to the current segment, rotating first when
// the segment is too old or would grow past MaxBytes. slog handlers write a
// whole record per call, so segments always hold complete lines.
func (s *Sink) Write(p []byte) (int, error) {
	if !s.enabled {
		return len(p), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	now := s.now()
	if s.cur != nil && (now.Sub(s.cur.start) >= s.opts.Rotate || s.cur.size+int64(len(p)) > s.opts.MaxBytes) {
		s.rotateLocked(true)
	}
	if s.cur == nil {
		if err := s.openLocked(now); err != nil {
			s.writeFailedLocked(err)
			return 0, err
		}
	}
	n, err := s.file.Write(p)
	s.cur.size += int64(n)
	if err != nil {
		err = fmt.Errorf("logs: write %s: %w", s.cur.path, err)
		s.writeFailedLocked(err)
		return n, err
	}
	s.failing = false
	return n, nil
}

func (s *Sink) writeFailedLocked(err error) {
	if !s.failing {
		s.reports.send(err)
	}
	s.failing = true
}

// openLocked starts a segment. Segments are opened lazily on the first
// write, so idle periods leave no empty files. Start times are made unique
// (bumped by 1ms) because they name both the file and the object.
func (s *Sink) openLocked(now time.Time) error {
	start := now.Truncate(time.Millisecond)
	for attempt := 0; ; attempt++ {
		if !start.After(s.lastStart) {
			start = s.lastStart.Add(time.Millisecond)
		}
		path := filepath.Join(s.dir, segmentFileName(start))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, fsperm.FileMode)
		s.lastStart = start
		if errors.Is(err, os.ErrExist) && attempt < 100 {
			continue // left by an earlier run in the same millisecond
		}
		if err != nil {
			return fmt.Errorf("logs: open segment: %w", err)
		}
		s.cur, s.file = &segment{path: path, start: start}, f
		return nil
	}
}

// rotateLocked closes the current segment, queues it for upload and prunes
// old local files. It touches only the local disk, never the network. kick
// wakes the shipper; Flush and Close pass false because they run a round
// themselves, and a second back-to-back round would retry a failed upload
// immediately instead of at the next rotation.
func (s *Sink) rotateLocked(kick bool) {
	if s.cur == nil {
		return
	}
	seg := s.cur
	if err := s.file.Close(); err != nil {
		s.reports.send(fmt.Errorf("logs: close %s: %w", seg.path, err))
	}
	s.cur, s.file = nil, nil
	if seg.size == 0 {
		_ = os.Remove(seg.path)
		return
	}
	if s.opts.Uploader != nil {
		s.enqueueLocked(seg, kick)
	}
	s.pruneLocked()
}

// rotateIfDue closes a segment that has outlived Rotate without new writes.
func (s *Sink) rotateIfDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && s.cur != nil && s.now().Sub(s.cur.start) >= s.opts.Rotate {
		s.rotateLocked(true)
	}
}

// tickLoop closes idle segments on time so they get shipped even when the
// server goes quiet.
func (s *Sink) tickLoop() {
	defer close(s.tickDone)
	period := min(max(s.opts.Rotate/10, time.Second), time.Minute)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.rotateIfDue()
		case <-s.tickStop:
			return
		}
	}
}

// pruneLocked removes the oldest local segments beyond Keep. Spooled
// segments are deleted after upload instead.
func (s *Sink) pruneLocked() {
	if s.spool || s.opts.Keep < 0 {
		return
	}
	paths, err := listSegments(s.dir)
	if err != nil {
		s.reports.send(fmt.Errorf("logs: list %s: %w", s.dir, err))
		return
	}
	for _, p := range paths[:max(len(paths)-s.opts.Keep, 0)] {
		if s.cur != nil && p == s.cur.path {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.reports.send(fmt.Errorf("logs: prune: %w", err))
			continue
		}
		for _, seg := range s.pending {
			if seg.path == p {
				s.dropLocked(seg, "removed by Keep before it was shipped")
				break
			}
		}
	}
}

// Flush closes the current segment and, with an Uploader, waits for one
// shipping round over everything pending. It returns the round's upload
// error, or ctx's error if ctx ends first (shipping then carries on).
func (s *Sink) Flush(ctx context.Context) error {
	if !s.enabled {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.rotateLocked(false)
	s.mu.Unlock()
	return s.shipNow(ctx)
}

// Close flushes, ships what it can before ctx ends and stops the background
// goroutines. Later writes are refused with ErrClosed.
func (s *Sink) Close(ctx context.Context) error {
	if !s.enabled {
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.rotateLocked(false)
	s.closed = true
	s.mu.Unlock()

	if s.tickStop != nil {
		close(s.tickStop)
		<-s.tickDone
	}
	err := s.shipNow(ctx)
	s.cancel() // interrupts an upload still running after ctx ended
	stopped := true
	if s.shipDone != nil {
		select {
		case <-s.shipDone:
		case <-ctx.Done():
			stopped = false // an Uploader ignoring ctx; don't hang shutdown
		}
	}
	if stopped && s.spool && s.pendingCount() == 0 {
		if rmErr := os.RemoveAll(s.dir); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("logs: remove spool dir: %w", rmErr))
		}
	}
	s.reports.close()
	return err
}

func (s *Sink) pendingCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}
