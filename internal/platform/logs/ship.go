package logs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// errGone marks a segment whose file disappeared; it can never be shipped.
var errGone = errors.New("segment file is gone")

// enqueueLocked queues a closed segment and wakes the shipper without
// blocking. The backlog is capped: when uploads keep failing, the oldest
// segments are given up on so disk use stays bounded.
func (s *Sink) enqueueLocked(seg *segment, kick bool) {
	s.pending = append(s.pending, seg)
	s.pendingBytes += seg.size
	for s.pendingBytes > s.opts.MaxPendingBytes && len(s.pending) > 1 {
		s.dropLocked(s.pending[0], fmt.Sprintf("upload backlog over %d bytes", s.opts.MaxPendingBytes))
	}
	if !kick {
		return
	}
	select {
	case s.kick <- struct{}{}:
	default: // a round is already due; it will see this segment
	}
}

// dropLocked stops trying to ship seg and reports it.
func (s *Sink) dropLocked(seg *segment, why string) {
	i := slices.Index(s.pending, seg)
	if i < 0 {
		return
	}
	s.pending = slices.Delete(s.pending, i, i+1)
	s.pendingBytes -= seg.size
	if s.spool {
		_ = os.Remove(seg.path)
	}
	s.reports.send(fmt.Errorf("logs: dropped unshipped segment %s (%d bytes): %s", seg.path, seg.size, why))
}

// shipNow asks the shipper for a round and waits for its result.
func (s *Sink) shipNow(ctx context.Context) error {
	if s.flushReq == nil {
		return nil
	}
	reply := make(chan error, 1)
	select {
	case s.flushReq <- reply:
	case <-ctx.Done():
		return fmt.Errorf("logs: flush: %w", ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("logs: flush: %w", ctx.Err())
	}
}

// shipLoop runs shipping rounds on rotation and on request, one at a time so
// segments are uploaded in order.
func (s *Sink) shipLoop() {
	defer close(s.shipDone)
	for {
		select {
		case <-s.kick:
			if err := s.shipPending(); err != nil {
				s.reports.send(err)
			}
		case reply := <-s.flushReq:
			reply <- s.shipPending()
		case <-s.base.Done():
			return
		}
	}
}

// shipPending uploads pending segments oldest first. It stops at the first
// segment that still fails after its attempts: the store is most likely
// down, and the next rotation retries from the same place.
func (s *Sink) shipPending() error {
	s.mu.Lock()
	batch := slices.Clone(s.pending)
	s.mu.Unlock()
	for _, seg := range batch {
		if err := s.base.Err(); err != nil {
			return fmt.Errorf("logs: shipping stopped: %w", err)
		}
		err := s.upload(seg)
		s.mu.Lock()
		switch {
		case err == nil:
			if i := slices.Index(s.pending, seg); i >= 0 {
				s.pending = slices.Delete(s.pending, i, i+1)
				s.pendingBytes -= seg.size
			}
			if s.spool {
				_ = os.Remove(seg.path)
			}
		case errors.Is(err, errGone):
			s.dropLocked(seg, "file is gone")
		}
		s.mu.Unlock()
		if err != nil && !errors.Is(err, errGone) {
			return err
		}
	}
	return nil
}

// upload puts one segment, retrying with exponential backoff.
func (s *Sink) upload(seg *segment) error {
	key := objectKey(s.opts.Prefix, s.opts.Instance, seg.start)
	backoff := s.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		err := s.putOnce(seg, key)
		if err == nil || errors.Is(err, errGone) {
			return err
		}
		if attempt >= s.opts.UploadAttempts {
			return fmt.Errorf("logs: upload %s (%d attempts): %w", key, attempt, err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.base.Done():
			t.Stop()
			return fmt.Errorf("logs: upload %s: %w", key, s.base.Err())
		}
		backoff *= 2
	}
}

func (s *Sink) putOnce(seg *segment, key string) error {
	f, err := os.Open(seg.path)
	if errors.Is(err, os.ErrNotExist) {
		return errGone
	}
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(s.base, s.opts.UploadTimeout)
	defer cancel()
	return s.opts.Uploader.Put(ctx, key, f, seg.size, s.contentType())
}

func (s *Sink) contentType() string {
	if s.opts.Format == "json" {
		return "application/x-ndjson"
	}
	return "text/plain; charset=utf-8"
}
