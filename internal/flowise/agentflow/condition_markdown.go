package agentflow

import (
	"math"
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// Flowise's Condition node passes both sides of a string condition through the remove-markdown
// package (0.6.2, default options) before comparing, so an LLM answer of "**SOFTWARE**" equals
// "SOFTWARE" (Flowise PR #4761). The rules below are that package's, in its order, run with
// ECMAScript regular expressions: several need backreferences, which Go's regexp lacks.

// condMarkdownRule is one rewrite: every match of pattern becomes replacement ($n are groups),
// or the result of fn when set.
type condMarkdownRule struct {
	re          *regexp2.Regexp
	replacement string
	fn          func(regexp2.Match) string
}

// condCompileJS compiles a JavaScript regular expression. Matching never consults a clock: a
// match timeout would make the result depend on machine speed, which workflow replay cannot
// tolerate (another package may have set regexp2's process-wide default). Runaway backtracking
// is still bounded, deterministically, by regexp2's backtracking stack limit.
func condCompileJS(pattern string) (*regexp2.Regexp, error) {
	re, err := regexp2.Compile(condJSDots(pattern), regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = time.Duration(math.MaxInt64)
	return re, nil
}

// condJSDots spells out "." as JavaScript defines it, any character but \n, \r, U+2028 and
// U+2029 (regexp2 lets the last two through), leaving escaped dots and dots inside [...] alone.
func condJSDots(pattern string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			b.WriteByte(c)
			i++
			c = pattern[i]
		case inClass && c == ']':
			inClass = false
		case !inClass && c == '[':
			inClass = true
		case !inClass && c == '.':
			b.WriteString(`[^\n\r\u2028\u2029]`)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func condMustCompileJS(pattern string) *regexp2.Regexp {
	re, err := condCompileJS(pattern)
	if err != nil {
		panic("agentflow: bad built-in pattern " + pattern + ": " + err.Error())
	}
	return re
}

func condRule(pattern, replacement string) condMarkdownRule {
	return condMarkdownRule{re: condMustCompileJS(pattern), replacement: replacement}
}

// JavaScript's multiline ^ and $ also match next to \r, U+2028 and U+2029; regexp2's only next
// to \n. Rules written for the "m" flag therefore spell the line boundaries out.
const (
	condBOL = `(?<=^|[\n\r\u2028\u2029])`
	condEOL = `(?=$|[\n\r\u2028\u2029])`
)

var condMarkdownRules = []condMarkdownRule{
	// Horizontal rules first, before list markers could eat "- - -".
	condRule(condBOL+` {0,3}((?:-[\t ]*){3,}|(?:_[ \t]*){3,}|(?:\*[ \t]*){3,})(?:\n+|`+condEOL+`)`, ""),
	// List markers ("- ", "* ", "+ ", "1. ").
	condRule(condBOL+`([\s\t]*)([*\-+]|\d+\.)\s+`, "$1"),
	// GitHub-flavoured: setext underlines, ~~~ fences, strike-through, ``` fenced blocks.
	condRule(`\n={2,}`, "\n"),
	condRule(`~{3}.*\n`, ""),
	condRule(`~~`, ""),
	{re: condMustCompileJS("```(?:.*)\\n([\\s\\S]*?)```"), fn: func(m regexp2.Match) string {
		return varsJSTrim(m.GroupByNumber(1).String())
	}},
	// HTML tags.
	condRule(`<[^>]*>`, ""),
	// A setext underline that is the whole text.
	condRule(`^[=\-]{2,}\s*$`, ""),
	// Footnotes and reference definitions.
	condRule(`\[\^.+?\](: .*?$)?`, ""),
	condRule(`\s{0,2}\[.*?\]: .*?$`, ""),
	// Images keep their alt text, links their text.
	condRule(`!\[(.*?)\][\[(].*?[\])]`, "$1"),
	condRule(`\[([\s\S]*?)\]\s*[(\[].*?[)\]]`, "$1"),
	// Block quotes.
	condRule(condBOL+`(\n)?\s{0,3}>\s?`, "$1"),
	condRule(`^\s{1,2}\[(.*?)\]: (\S+)( ".*?")?\s*$`, ""),
	// ATX headings ("# Title", "## Title ##").
	condRule(condBOL+`(\n)?\s{0,}#{1,6}\s*( (.+))? +#+`+condEOL+`|`+condBOL+`(\n)?\s{0,}#{1,6}\s*( (.+))?`+condEOL,
		"$1$3$4$6"),
	// *emphasis* and **strong**.
	condRule(`([*]+)(\S)(.*?\S)??\1`, "$2$3"),
	// _emphasis_, only between non-word characters or at the ends.
	condRule(`(^|\W)([_]+)(\S)(.*?\S)??\2($|\W)`, "$1$3$4$5"),
	// One-line ``` code ``` and `inline code`.
	condRule("(`{3,})(.*?)\\1", "$2"), // (the "m" flag changes nothing here)
	condRule("`(.+?)`", "$1"),
	// ~strike~.
	condRule(`~(.*?)~`, "$1"),
}

// condRemoveMarkdown strips markdown syntax from s. Like remove-markdown, if a rule fails (here:
// the backtracking limit) the original text is returned unchanged.
func condRemoveMarkdown(s string) string {
	out := s
	for _, r := range condMarkdownRules {
		var err error
		if r.fn != nil {
			out, err = r.re.ReplaceFunc(out, r.fn, -1, -1)
		} else {
			out, err = r.re.Replace(out, r.replacement, -1, -1)
		}
		if err != nil {
			return s
		}
	}
	return out
}
