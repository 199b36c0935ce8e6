package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// extractJSON re-indents the document with two spaces, keeping key order,
// number spelling and string escapes exactly as uploaded: the output of
// json.Indent(dst, src, "", "  "). json.Indent itself is not used because
// it indents the whole document before anything can be capped: indentation
// grows with depth times lines, and 20 KB nested 10,000 deep became 875 MB.
// Here nesting is bounded and the text cap stops the writing.
func extractJSON(ctx context.Context, data []byte, declared string, out *textBuf) error {
	src, err := decode(data, declared)
	if err != nil {
		return err
	}
	// Indent first: it refuses deep nesting before the validator walks it.
	// For invalid input it writes text that the error below discards.
	if err := indentJSON(ctx, src, out); err != nil && !errors.Is(err, errFull) {
		return err
	}
	if !json.Valid(src) {
		// Unmarshal checks validity before decoding anything, so this only
		// locates the error.
		err := json.Unmarshal(src, new(json.RawMessage))
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// jsonChunk is how much indented text is gathered before it goes to the
// output, and so how often cancellation is checked.
const jsonChunk = 32 << 10

// indentJSON writes src indented as json.Indent would, refusing nesting
// deeper than maxNesting. It assumes nothing about validity and never
// fails on bad input; the caller validates.
func indentJSON(ctx context.Context, src []byte, out *textBuf) error {
	var (
		buf        = make([]byte, 0, jsonChunk+2*maxNesting+8)
		nest       int  // open brackets
		depth      int  // indentation level; lags nest inside empty {} and []
		needIndent bool // a bracket was opened; indent unless it closes at once
		inString   bool
		escaped    bool // the previous string byte was a backslash
		started    bool // the top-level value has begun
	)
	newline := func() {
		buf = append(buf, '\n')
		for range max(depth, 0) {
			buf = append(buf, ' ', ' ')
		}
	}
	for i, c := range src {
		if len(buf) >= jsonChunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := out.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if inString {
			buf = append(buf, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			if nest == 0 && started {
				buf = append(buf, c) // json.Indent keeps trailing space
			}
			continue
		}
		started = true
		if needIndent && c != '}' && c != ']' {
			needIndent = false
			depth++
			newline()
		}
		switch c {
		case '"':
			inString = true
			buf = append(buf, c)
		case '{', '[':
			if nest++; nest > maxNesting {
				return fmt.Errorf("JSON nests deeper than %d levels (byte %d)", maxNesting, i)
			}
			needIndent = true // delayed so that {} and [] stay empty
			buf = append(buf, c)
		case ',':
			buf = append(buf, c)
			newline()
		case ':':
			buf = append(buf, c, ' ')
		case '}', ']':
			nest--
			if needIndent {
				needIndent = false
			} else {
				depth--
				newline()
			}
			buf = append(buf, c)
		default:
			buf = append(buf, c)
		}
	}
	_, err := out.Write(buf)
	return err
}
