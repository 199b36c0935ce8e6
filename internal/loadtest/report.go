package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is the result of a run. Latency figures cover successful measured requests only:
// a fast 503 would otherwise make an overloaded server look quick.
type Report struct {
	Target      string  `json:"target"`
	FlowID      string  `json:"flow_id"`
	Model       string  `json:"model"` // "closed" (fixed concurrency) or "open" (fixed rate)
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"`
	MaxInFlight int     `json:"max_in_flight,omitempty"`
	Streaming   bool    `json:"streaming"`

	Warmup    int `json:"warmup_requests"` // sent before the measured phase, in no figure below
	Requests  int `json:"requests"`        // measured requests, dropped ones included
	Successes int `json:"successes"`
	// Errors counts failed measured requests by kind (see the Err constants; "http_503" etc.).
	Errors map[string]int `json:"errors"`
	// ErrorExamples holds the first message seen of each kind.
	ErrorExamples map[string]string `json:"error_examples,omitempty"`

	// Elapsed is the measured wall time: from the first measured request to the last answer.
	Elapsed time.Duration `json:"-"`
	// Throughput is successes per second of Elapsed.
	Throughput float64 `json:"req_per_s"`
	Latency    Dist    `json:"latency"`
	// TTFT and TTLT are the times to the first and the last token event (streaming only).
	TTFT *Dist `json:"ttft,omitempty"`
	TTLT *Dist `json:"ttlt,omitempty"`

	Resources *Resources `json:"resources,omitempty"`
}

// ErrorCount is the number of failed measured requests.
func (r *Report) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// MarshalJSON adds the elapsed time in seconds, which encoding/json would print in nanoseconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		ElapsedS float64 `json:"elapsed_s"`
	}{plain(r), r.Elapsed.Seconds()})
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// WriteText writes the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	load := fmt.Sprintf("concurrency %d", r.Concurrency)
	if r.Model == "open" {
		load = fmt.Sprintf("rate %g/s (at most %d in flight)", r.Rate, r.MaxInFlight)
	}
	mode := "JSON"
	if r.Streaming {
		mode = "SSE"
	}
	fmt.Fprintf(&b, "target      %s, chatflow %s, %s, %s\n", r.Target, r.FlowID, load, mode)
	fmt.Fprintf(&b, "requests    %d measured (+%d warm-up) in %.2f s: %d ok, %d failed\n",
		r.Requests, r.Warmup, r.Elapsed.Seconds(), r.Successes, r.ErrorCount())
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		fmt.Fprintf(&b, "  %-18s %d  e.g. %s\n", k, r.Errors[k], truncate([]byte(r.ErrorExamples[k]), 160))
	}
	fmt.Fprintf(&b, "throughput  %.1f req/s\n", r.Throughput)
	writeDist(&b, "latency", r.Latency)
	if r.TTFT != nil {
		writeDist(&b, "ttft", *r.TTFT)
	}
	if r.TTLT != nil {
		writeDist(&b, "ttlt", *r.TTLT)
	}
	if res := r.Resources; res != nil {
		fmt.Fprintf(&b, "server      CPU %.0f%% (%.2f ms per prediction), RSS %.0f MB → %.0f MB (peak %.0f MB), pids %v\n",
			res.CPUPercent, res.CPUPerPredictionMS, res.RSSStartMB, res.RSSEndMB, res.RSSPeakMB, res.PIDs)
		if res.Error != "" {
			fmt.Fprintf(&b, "  sampling stopped: %s\n", res.Error)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDist(b *strings.Builder, name string, d Dist) {
	fmt.Fprintf(b, "%-11s p50 %s  p95 %s  p99 %s  max %s  mean %s\n", name,
		fmtMS(d.P50), fmtMS(d.P95), fmtMS(d.P99), fmtMS(d.Max), fmtMS(d.Mean))
}

// fmtMS prints milliseconds with the precision that matters at that size.
func fmtMS(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	default:
		return fmt.Sprintf("%.1f ms", v)
	}
}
