package flowiseimport

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Write prints the summary: one line per kind, what was skipped, notes, and the time taken.
func (r Report) Write(w io.Writer) {
	verb := "imported"
	if r.DryRun {
		verb = "dry run, nothing written; would import"
	}
	fmt.Fprintf(w, "flowgate import from %s (%s):\n", r.Source, verb)
	for _, c := range r.Counts {
		fmt.Fprintf(w, "  %-16s %d new, %d updated, %d unchanged\n", c.Kind, c.New, c.Updated, c.Unchanged)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Skipped)) {
		fmt.Fprintf(w, "  skipped: %d %s\n", r.Skipped[k], k)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	total, changed := 0, 0
	for _, c := range r.Counts {
		total += c.New + c.Updated + c.Unchanged
		changed += c.New + c.Updated
	}
	took := r.Elapsed.Round(time.Millisecond)
	switch {
	case changed == 0:
		fmt.Fprintf(w, "nothing to change: all %d rows are already there (%s)\n", total, took)
	case r.DryRun:
		fmt.Fprintf(w, "%d rows read and checked in %s; %d would be new or updated\n", total, took, changed)
	default:
		fmt.Fprintf(w, "%d rows in %s (%d new or updated)\n", total, took, changed)
	}
}

// String is the summary as Write prints it.
func (r Report) String() string {
	var b strings.Builder
	r.Write(&b)
	return b.String()
}
