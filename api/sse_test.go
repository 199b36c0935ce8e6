package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/stream"
)

func token(attempt int32, s string) stream.Event {
	raw, _ := json.Marshal(s)
	return stream.Event{Name: "token", Data: raw, Attempt: attempt}
}

// A node retried in the middle of its answer streams it again from the start; the client must
// see every token once and end with exactly the answer.
func TestTokenDedupAcrossRetries(t *testing.T) {
	var d tokenDedup
	var got strings.Builder
	for _, ev := range []stream.Event{
		token(1, "Hel"), token(1, "lo, "), // attempt 1 dies here
		token(2, "He"), token(2, "llo"), token(2, ", wor"), token(2, "ld"),
	} {
		if s, ok := d.add(ev); ok {
			got.WriteString(s)
		}
	}
	require.Equal(t, "Hello, world", got.String())
}

func TestTokenDedupStopsWhenARetryDiverges(t *testing.T) {
	var d tokenDedup
	_, ok := d.add(token(1, "Yes"))
	require.True(t, ok)
	_, ok = d.add(token(2, "No, "))
	require.False(t, ok)
	_, ok = d.add(token(2, "Yes and more"))
	require.False(t, ok, "nothing contradicting what the client saw is streamed")
	require.Equal(t, "Yes", d.sent.String())
}

// rest is what the closing of a stream still owes the client, so that its tokens add up to
// the answer: nothing when they already do, nothing when they say something else.
func TestTokenDedupRest(t *testing.T) {
	var d tokenDedup
	rest, ok := d.rest("Hello")
	require.True(t, ok)
	require.Equal(t, "Hello", rest, "an answer that sent no tokens is sent whole")
	_, _ = d.add(token(1, "Hel"))
	rest, ok = d.rest("Hello")
	require.True(t, ok)
	require.Equal(t, "lo", rest)
	_, _ = d.add(token(1, "lo"))
	_, ok = d.rest("Hello")
	require.False(t, ok, "all sent")
	_, ok = d.rest("Goodbye")
	require.False(t, ok, "tokens of another answer are not contradicted")
	_, ok = (&tokenDedup{}).rest("")
	require.False(t, ok)
}
