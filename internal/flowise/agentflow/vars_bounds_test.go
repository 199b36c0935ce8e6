package agentflow

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Rich text that used to take seconds to minutes to convert (times measured before the fix
// on a 2-core machine), or to come out hundreds of times larger. Each must now be converted,
// or given back as written, within a few seconds and the budget.
func TestPlainTextHostile(t *testing.T) {
	var runs strings.Builder
	for n := 1; n <= 2000; n++ {
		runs.WriteString(strings.Repeat("`", n) + "a")
	}
	tests := []struct {
		name, html string
		asWritten  bool // over the budget: returned as written
	}{
		// Each piece was appended to a copy of all the previous ones (10.8 s).
		{"50,000 inline elements", "<p>" + strings.Repeat("<b>x</b>y", 50000), false},
		// Each level copied the text of all the levels below it, and each of those its own
		// (1 min 42 s).
		{"1 MB under 500 elements", "<p>" + strings.Repeat("<span>", 500) + strings.Repeat("x ", 1<<19), true},
		// Each list level indents every line inside it: 66 MB of markdown (49 s).
		{"250 nested lists", "<p>" + strings.Repeat("<ul><li>", 250) + strings.Repeat("x<br>", 1<<16), true},
		// Each item counted the items before it (14 s).
		{"50,000 numbered items", "<p><ol start=\"3\">" + strings.Repeat("<li>a</li>", 50000), false},
		// The code fence tried lengths 1, 2, … each over the whole text: n^1.5 steps, a
		// minor one (0.5 s here).
		{"backtick runs of every length", "<p><code>" + runs.String() + "</code>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out := PlainText(tt.html)
			require.Less(t, time.Since(start), 5*time.Second)
			require.LessOrEqual(t, len(out), varsMarkdownBudget(len(tt.html)))
			if tt.asWritten {
				require.Equal(t, tt.html, out)
			} else {
				require.NotEqual(t, tt.html, out)
			}
		})
	}
}
