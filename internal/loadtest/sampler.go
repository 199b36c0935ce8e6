package loadtest

import (
	"sync"
	"time"
)

// Resources is what the server processes used over the measured phase, summed over them.
type Resources struct {
	PIDs []int `json:"pids"`
	// CPUPercent is CPU time over wall time: 100 is one core busy the whole phase.
	CPUPercent float64 `json:"cpu_percent"`
	// CPUSeconds is the processes' CPU time (user + system) over the phase.
	CPUSeconds float64 `json:"cpu_s"`
	// CPUPerPredictionMS is CPUSeconds over the phase's successful predictions, in
	// milliseconds: the figure to compare with another server measured the same way.
	CPUPerPredictionMS float64 `json:"cpu_ms_per_prediction,omitempty"`
	RSSStartMB         float64 `json:"rss_start_mb"`
	RSSEndMB           float64 `json:"rss_end_mb"`
	RSSPeakMB          float64 `json:"rss_peak_mb"`
	// AnonEndMB is the part of RSSEndMB no file backs (see ProcStats.AnonBytes).
	AnonEndMB float64 `json:"rss_anon_end_mb"`
	Samples   int     `json:"samples"`
	// Error is the first failed read (a process that exited mid-run); figures then cover only
	// the samples before it.
	Error string `json:"error,omitempty"`
}

// sampler follows processes from the start of the measured phase to its end.
type sampler struct {
	pids  []int
	start time.Time
	first ProcStats
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	last    ProcStats
	lastAt  time.Time
	peak    uint64
	samples int
	err     error
}

// startSampler takes the first sample now and then one every interval, for the RSS peak.
func startSampler(pids []int, interval time.Duration, at time.Time) *sampler {
	s := &sampler{pids: pids, start: at, stop: make(chan struct{}), done: make(chan struct{})}
	s.first, s.err = ReadProcStats(pids)
	s.last, s.lastAt, s.peak, s.samples = s.first, at, s.first.RSSBytes, 1
	go s.loop(interval)
	return s
}

func (s *sampler) loop(interval time.Duration) {
	defer close(s.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.sample(time.Now())
		}
	}
}

func (s *sampler) sample(at time.Time) {
	st, err := ReadProcStats(s.pids)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if err != nil {
		s.err = err
		return
	}
	s.last, s.lastAt = st, at
	s.peak = max(s.peak, st.RSSBytes)
	s.samples++
}

// finish takes the last sample and summarizes the phase.
func (s *sampler) finish() Resources {
	close(s.stop)
	<-s.done
	s.sample(time.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Resources{
		PIDs: s.pids, RSSStartMB: mb(s.first.RSSBytes), RSSEndMB: mb(s.last.RSSBytes),
		RSSPeakMB: mb(s.peak), AnonEndMB: mb(s.last.AnonBytes), Samples: s.samples,
	}
	r.CPUSeconds = float64(s.last.CPUTicks-s.first.CPUTicks) / clockTicks
	if wall := s.lastAt.Sub(s.start).Seconds(); wall > 0 {
		r.CPUPercent = r.CPUSeconds / wall * 100
	}
	if s.err != nil {
		r.Error = s.err.Error()
	}
	return r
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
