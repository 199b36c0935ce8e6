package llmmock

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestSplitChunks(t *testing.T) {
	text := Answer("héllo wörld 😀 ✓")
	for _, n := range []int{1, 3, 4, 7, 1000} {
		pieces := splitChunks(text, n)
		require.Len(t, pieces, min(n, utf8.RuneCountInString(text)))
		require.Equal(t, text, strings.Join(pieces, ""))
		for _, p := range pieces {
			require.True(t, utf8.ValidString(p), "piece %q cuts a rune", p)
			require.NotEmpty(t, p)
		}
	}
}

func TestRequestLogKeepsNewest(t *testing.T) {
	log := newRequestLog(3)
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		log.add(Request{Model: m})
	}
	var got []string
	for _, r := range log.snapshot() {
		got = append(got, r.Model)
	}
	require.Equal(t, []string{"c", "d", "e"}, got)

	log.clear()
	require.Empty(t, log.snapshot())

	off := newRequestLog(-1)
	off.add(Request{})
	require.Empty(t, off.snapshot())
}
