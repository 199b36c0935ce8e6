package agentflow

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Expected values are remove-markdown 0.6.2's output (run in Node.js).
func TestConditionRemoveMarkdown(t *testing.T) {
	cases := []struct{ in, want string }{
		{"**SOFTWARE**", "SOFTWARE"},
		{"  SOFTWARE  ", "  SOFTWARE  "},
		{"- item one\n- item two", "item one\nitem two"},
		{"1. first\n2. second", "first\nsecond"},
		{"## Title ##", "Title"},
		{"Title\n=====", "Title\n"},
		{"```js\nlet x = 1\n```", "let x = 1"},
		{"a ~~strike~~ b", "a strike b"},
		{"[link](http://x.y)", "link"},
		{"![alt](img.png)", "alt"},
		{"> quote\n> more", "quote\nmore"},
		{"_emph_ and __strong__", "emph and strong"},
		{"snake_case_name", "snake_case_name"},
		{"2 * 3 * 4", "2 * 3 * 4"},
		{"<p>html</p> text", "html text"},
		{"a < b > c", "a  c"},
		{"---\ntext", "text"},
		{"ref [^1] here", "ref  here"},
		{"x**y", "x**y"},
		{"3.5 apples", "3.5 apples"},
		{"-5 degrees", "-5 degrees"},
		{"Next: **SOFTWARE**\n", "Next: SOFTWARE\n"},
		{"__init__", "init"},
		{"line1\r\nline2", "line1\r\nline2"},
		{"#hashtag", "#hashtag"},
		{"``a``", "`a`"},
		{"é**ü**", "éü"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, condRemoveMarkdown(c.in), "removeMarkdown(%q)", c.in)
	}
}
