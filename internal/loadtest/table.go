package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// WriteMarkdown prints the matrix as a markdown table, with the machine and settings above it.
func (m *MatrixRun) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	mc := m.Machine
	fmt.Fprintf(&b, "Flowgate %s on %d × %s, %.0f GiB, %s, %s; llm-chain.json against the in-process llmmock; "+
		"%g s per row after %g s of warm-up; %s.\n\n",
		m.Version, mc.CPUs, orDash(mc.CPUModel), mc.MemoryGiB, mc.OS, mc.Go, m.Duration, m.Warmup, m.Started.Format("2006-01-02 15:04"))
	b.WriteString("| row | mode | mock delay | concurrency | streaming | req/s | p50 | p95 | p99 | TTFT p50 | errors | server CPU | CPU per prediction | server RSS end (peak) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range m.Results {
		p := r.Point
		mode := map[string]string{OneProcess: "one process", QueueMode: "queue (2 API + 2 workers)",
			Direct: "direct: the nodes without Temporal"}[p.Mode]
		stream := "no"
		if p.Streaming {
			stream = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %g ms | %d | %s | ", p.ID, mode, r.DelayMS, p.Concurrency, stream)
		rep := r.Report
		if rep == nil || rep.Requests == 0 {
			fmt.Fprintf(&b, "– | – | – | – | – | %s | – | – | – |\n", cell(r.Error))
			continue
		}
		ttft := "–"
		if rep.TTFT != nil && rep.TTFT.N > 0 {
			ttft = fmtMS(rep.TTFT.P50)
		}
		errs := errorCell(rep)
		if r.Error != "" {
			errs += " (" + cell(r.Error) + ")"
		}
		cpu, perPrediction, rss := "–", "–", "–"
		if res := rep.Resources; res != nil {
			cpu = fmt.Sprintf("%.0f%%", res.CPUPercent)
			perPrediction = fmt.Sprintf("%.1f ms", res.CPUPerPredictionMS)
			rss = fmt.Sprintf("%.0f MB (%.0f)", res.RSSEndMB, res.RSSPeakMB)
		}
		fmt.Fprintf(&b, "%.1f | %s | %s | %s | %s | %s | %s | %s | %s |\n", rep.Throughput,
			fmtMS(rep.Latency.P50), fmtMS(rep.Latency.P95), fmtMS(rep.Latency.P99), ttft, errs, cpu, perPrediction, rss)
	}
	b.WriteString("\nreq/s: successful predictions per second of measured time; p50/p95/p99: latency of successful " +
		"predictions (to the last byte, or the SSE end event); CPU: all Flowgate processes together, 100% = one core, " +
		"and their CPU time over the successful predictions; " +
		"RSS: their resident memory summed.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// errorCell is "0", or the count with its kinds.
func errorCell(r *Report) string {
	n := r.ErrorCount()
	if n == 0 {
		return "0"
	}
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, r.Errors[k]))
	}
	return fmt.Sprintf("%d of %d (%s)", n, r.Requests, strings.Join(kinds, ", "))
}

// cell makes text safe inside a markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "|", "/"), "\n", " ")
	return truncate([]byte(s), 120)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
