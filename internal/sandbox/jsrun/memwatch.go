package jsrun

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// The memory watchdog. goja has no heap limit and Go cannot account
// allocations per goroutine, so this watches the process heap while runs are
// active and charges growth to every run that was active during it:
//
//   - cheap trigger: "/memory/classes/heap/objects:bytes" (live objects plus
//     not-yet-swept garbage) sampled every pollInterval; when it rises more
//     than a run's limit above that run's starting level, the growth may be
//     mere garbage, so
//   - confirmation: a forced runtime.GC() (rate-limited, shared by all runs,
//     run on its own goroutine so sampling continues meanwhile) and
//     "/gc/heap/live:bytes" decide. Live-heap growth beyond the limit stops
//     the run with ErrMemory;
//   - emergency: growth beyond hardFactor × limit that also overshoots the GC
//     goal by a limit (garbage alone cannot do that: a GC would have started)
//     stops the run without waiting for the confirming GC, which matters for
//     doubling loops (s += s) that outrun a GC.
//
// Limits of the approach, by design: the heap is process-wide, so a run that
// overlaps a memory bomb (or any other goroutine growing its live heap) can be
// stopped too; the baseline includes garbage present at start, so a bomb
// gets up to that much extra room; detection lags by up to pollInterval plus
// one GC, during which a tight loop keeps allocating. Single huge
// allocations never reach this path: the built-in guards refuse them before
// they happen.
const (
	pollInterval  = 2 * time.Millisecond
	minGCInterval = 20 * time.Millisecond
	hardFactor    = 2
)

var heapWatcher = &heapWatch{runs: map[*watchedRun]struct{}{}}

type heapWatch struct {
	mu      sync.Mutex
	runs    map[*watchedRun]struct{}
	running bool
}

type watchedRun struct {
	limit    uint64
	base     uint64 // heap objects at start
	trigger  uint64 // objects level that warrants a confirming GC
	peak     uint64 // largest growth seen, for diagnostics and tests
	onExceed func(error)
}

// watch registers a run; the returned func unregisters it and reports the
// peak heap growth observed while it ran.
func (w *heapWatch) watch(limit int64, onExceed func(error)) func() uint64 {
	objects := readHeap().objects
	r := &watchedRun{limit: uint64(limit), base: objects, trigger: objects + uint64(limit), onExceed: onExceed}
	w.mu.Lock()
	w.runs[r] = struct{}{}
	if !w.running {
		w.running = true
		go w.loop()
	}
	w.mu.Unlock()
	return func() uint64 {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.runs, r)
		return r.peak
	}
}

func (w *heapWatch) loop() {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	gcDone := make(chan struct{}, 1)
	gcRunning := false
	var lastGC time.Time
	for {
		select {
		case <-ticker.C:
		case <-gcDone:
			gcRunning = false
			lastGC = time.Now()
			h := readHeap()
			w.mu.Lock()
			w.judge(h, true)
			w.mu.Unlock()
			continue
		}
		h := readHeap()
		w.mu.Lock()
		if len(w.runs) == 0 && !gcRunning {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.judge(h, false)
		suspect := false
		for r := range w.runs {
			suspect = suspect || h.objects > r.trigger
		}
		w.mu.Unlock()
		if suspect && !gcRunning && time.Since(lastGC) >= minGCInterval {
			gcRunning = true
			go func() {
				runtime.GC()
				gcDone <- struct{}{}
			}()
		}
	}
}

// judge stops runs over their limit. Called with w.mu held.
func (w *heapWatch) judge(h heapStats, afterGC bool) {
	for r := range w.runs {
		growth := sub(h.live, r.base)
		raw := sub(h.objects, r.base)
		r.peak = max(r.peak, raw)
		switch {
		case growth > r.limit:
			w.exceeded(r, growth)
		case raw > hardFactor*r.limit && h.objects > h.goal+r.limit:
			w.exceeded(r, raw)
		case afterGC:
			// Re-arm at the remaining budget above what is live now.
			r.trigger = h.objects + (r.limit - growth)
		}
	}
}

func (w *heapWatch) exceeded(r *watchedRun, growth uint64) {
	delete(w.runs, r)
	r.onExceed(memoryError("heap grew by about %d MB, limit %d MB", growth>>20, r.limit>>20))
}

type heapStats struct{ objects, live, goal uint64 }

var heapSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/heap/live:bytes"},
	{Name: "/gc/heap/goal:bytes"},
}

var heapSamplesMu sync.Mutex

func readHeap() heapStats {
	heapSamplesMu.Lock()
	defer heapSamplesMu.Unlock()
	metrics.Read(heapSamples)
	return heapStats{
		objects: sampleUint(heapSamples[0]),
		live:    sampleUint(heapSamples[1]),
		goal:    sampleUint(heapSamples[2]),
	}
}

func sampleUint(s metrics.Sample) uint64 {
	if s.Value.Kind() == metrics.KindUint64 {
		return s.Value.Uint64()
	}
	return 0
}

func sub(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return 0
}
