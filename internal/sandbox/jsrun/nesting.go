package jsrun

import (
	"fmt"
	"strings"
)

// Bounds checked before goja's parser sees the source. The parser and compiler recurse once
// per level of nesting, on the Go stack, and some constructs cost time quadratic in depth:
// 65,000 nested parentheses take 224 MB of stack, 65,000 nested brackets minutes of CPU, and a
// Go stack that passes its limit ends the whole process, not the run.
const (
	maxSource     = 128 << 10 // bytes of code; Flowise custom functions are a few KB
	maxCodeNested = 256       // brackets, braces, parentheses and template substitutions
)

// checkNesting refuses source longer than maxSource or nested deeper than maxCodeNested. It is
// a scanner, not a parser: it skips strings, template text and comments and counts every other
// bracket, so a regular expression's brackets count too (closing ones never lower the count
// below zero). A quote inside a regular expression literal can make it skip code it should
// count; only the code's author can write that, and maxSource still bounds the depth.
func checkNesting(code string) error {
	if len(code) > maxSource {
		return &ScriptError{Name: "SyntaxError", Message: fmt.Sprintf("the code is %d bytes; at most %d are allowed", len(code), maxSource)}
	}
	s := nestingScan{code: code}
	return s.scan(0)
}

type nestingScan struct {
	code  string
	depth int
	// substitutions holds, for each template substitution ${...} we are inside of, the depth
	// its "{" opened.
	substitutions []int
}

func (s *nestingScan) open(at int) error {
	if s.depth++; s.depth > maxCodeNested {
		return &ScriptError{Name: "SyntaxError", Message: fmt.Sprintf("the code nests more than %d levels deep (at byte %d)", maxCodeNested, at)}
	}
	return nil
}

func (s *nestingScan) close() { s.depth = max(s.depth-1, 0) }

// scan counts nesting from i to the end of the code.
func (s *nestingScan) scan(i int) error {
	code := s.code
	for ; i < len(code); i++ {
		switch c := code[i]; c {
		case '\'', '"':
			i = skipQuoted(code, i+1, c)
		case '`':
			i++
			if err := s.template(&i); err != nil {
				return err
			}
		case '/':
			switch {
			case strings.HasPrefix(code[i:], "//"):
				end := lineEnd(code[i:])
				if end < 0 {
					return nil
				}
				i += end
			case strings.HasPrefix(code[i:], "/*"):
				end := strings.Index(code[i+2:], "*/")
				if end < 0 {
					return nil // unterminated: the parser says so
				}
				i += 2 + end + 1
			}
		case '(', '[', '{':
			if err := s.open(i); err != nil {
				return err
			}
		case ')', ']':
			s.close()
		case '}':
			if n := len(s.substitutions); n > 0 && s.substitutions[n-1] == s.depth {
				// The end of a substitution: back into its template's text.
				s.substitutions = s.substitutions[:n-1]
				s.close()
				i++
				if err := s.template(&i); err != nil {
					return err
				}
				continue
			}
			s.close()
		}
	}
	return nil
}

// template skips template text from *i, leaving *i at its closing backquote, or at the "{" of
// a substitution it opens.
func (s *nestingScan) template(i *int) error {
	code := s.code
	for ; *i < len(code); *i++ {
		switch code[*i] {
		case '\\':
			*i++
		case '`':
			return nil
		case '$':
			if *i+1 < len(code) && code[*i+1] == '{' {
				*i++
				if err := s.open(*i); err != nil {
					return err
				}
				s.substitutions = append(s.substitutions, s.depth)
				return nil
			}
		}
	}
	return nil
}

// skipQuoted returns the index of the quote that closes a string starting at i, or of the
// line's end for an unterminated one (the parser reports it).
func skipQuoted(code string, i int, quote byte) int {
	for ; i < len(code); i++ {
		switch code[i] {
		case '\\':
			i++
		case quote, '\n', '\r':
			return i
		}
	}
	return i
}

// lineEnd is the index of the first line terminator in s, as JavaScript counts them (LF, CR,
// U+2028, U+2029), or -1. A comment ends at any of them, and the scanner must not count past.
func lineEnd(s string) int {
	return strings.IndexFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' })
}
