package extract

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// errFull tells extractors to stop: the output cap was reached. Text treats
// it as success and returns the truncated text.
var errFull = errors.New("extract: text limit reached")

// truncatedNote ends truncated output so readers (and LLMs) know text is
// missing rather than the document just ending abruptly.
const truncatedNote = "\n\n[truncated: extracted text exceeds %d bytes]"

// textBuf accumulates output up to a byte budget, cutting at a rune boundary.
type textBuf struct {
	b         strings.Builder
	max       int
	truncated bool
}

func newTextBuf(max int) *textBuf {
	return &textBuf{max: max}
}

// Write is WriteString for bytes, so extractors can stream into the buffer.
func (t *textBuf) Write(p []byte) (int, error) {
	n := t.b.Len()
	err := t.WriteString(string(p))
	return t.b.Len() - n, err
}

// WriteString appends s, or as much of it as fits, returning errFull once
// the budget is exhausted.
func (t *textBuf) WriteString(s string) error {
	if t.truncated {
		return errFull
	}
	room := t.max - t.b.Len()
	if len(s) <= room {
		t.b.WriteString(s)
		return nil
	}
	cut := max(room, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	t.b.WriteString(s[:cut])
	t.truncated = true
	return errFull
}

// WriteStrings writes parts in turn, stopping at the budget.
func (t *textBuf) WriteStrings(parts ...string) error {
	for _, s := range parts {
		if err := t.WriteString(s); err != nil {
			return err
		}
	}
	return nil
}

// Len is the number of bytes written so far.
func (t *textBuf) Len() int { return t.b.Len() }

// Remaining is how many more bytes fit.
func (t *textBuf) Remaining() int { return max(t.max-t.b.Len(), 0) }

// String returns the text, with a truncation note if the budget ran out.
// The note is appended after the budget so the cap applies to document text.
func (t *textBuf) String() string {
	if !t.truncated {
		return t.b.String()
	}
	return t.b.String() + fmt.Sprintf(truncatedNote, t.max)
}
