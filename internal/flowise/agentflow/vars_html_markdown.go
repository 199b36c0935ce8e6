package agentflow

import (
	"bytes"
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// The element rules of PlainText: each element becomes markdown the way turndown's CommonMark
// rules write it, and converted pieces are joined with at most one blank line between blocks.

// varsAttrBreaks matches line breaks in an attribute with the blank space that follows them.
var varsAttrBreaks = regexp.MustCompile(`(\n+\s*)+`)

// varsMarkdown converts a tree with a budget. Each element's markdown is built from its
// children's, so text nested n deep is copied n times, and each list or quote level indents
// every line inside it once more: 650 KB of nested lists made 131 MB of markdown, and a
// megabyte of text in 500 nested elements took minutes. The budget counts every byte copied
// and every node visited; once it is spent the conversion stops (over) and PlainText keeps
// the text as written.
type varsMarkdown struct {
	budget int
}

// varsMarkdownBudget is the budget for n bytes of HTML: far more than the editor's HTML,
// nested a dozen levels deep, needs.
func varsMarkdownBudget(n int) int { return 128*n + varsMarkdownSlack }

// varsMarkdownSlack is the budget every text gets whatever its length.
var varsMarkdownSlack = 1 << 20

func (m *varsMarkdown) spend(n int) { m.budget -= n }

func (m *varsMarkdown) over() bool { return m.budget < 0 }

// children converts a node's children and joins them.
func (m *varsMarkdown) children(parent *html.Node) string {
	var out []byte
	index := 0 // of the next element among the children, for list numbers
	for c := parent.FirstChild; c != nil && !m.over(); c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			m.spend(len(c.Data))
			out = varsJoinBlocks(out, c.Data)
		case html.ElementNode:
			out = varsJoinBlocks(out, m.element(c, index))
			index++
		}
	}
	return string(out)
}

// varsJoinBlocks appends next to out, keeping at most two newlines between them: the larger of
// the newlines out ends with and next starts with. It appends in place, so that joining many
// pieces costs their length, not its square.
func varsJoinBlocks(out []byte, next string) []byte {
	s1 := bytes.TrimRight(out, "\n")
	s2 := strings.TrimLeft(next, "\n")
	nls := min(max(len(out)-len(s1), len(next)-len(s2)), 2)
	return append(append(s1, "\n\n"[:nls]...), s2...)
}

// element converts element n, the index-th element among its parent's children: whitespace at
// the edges of an inline element moves outside its markup ("<b> x </b>" → " **x** ").
func (m *varsMarkdown) element(n *html.Node, index int) string {
	content := m.children(n)
	if m.over() {
		return ""
	}
	lead, trail := m.flankingSpace(n)
	if lead != "" || trail != "" {
		content = varsJSTrim(content)
	}
	md := lead + m.markdown(n, content, index) + trail
	m.spend(len(md))
	return md
}

// markdown is the markdown for element n whose converted content is content.
func (m *varsMarkdown) markdown(n *html.Node, content string, index int) string {
	block := varsIsElem(n, varsBlockTags)
	if m.isBlank(n) {
		if block {
			return "\n\n"
		}
		return ""
	}
	switch n.Data {
	case "p":
		return "\n\n" + content + "\n\n"
	case "br":
		return "  \n"
	case "h1", "h2":
		underline := "="
		if n.Data == "h2" {
			underline = "-"
		}
		return "\n\n" + content + "\n" + strings.Repeat(underline, varsUTF16Len(content)) + "\n\n"
	case "h3", "h4", "h5", "h6":
		return "\n\n" + strings.Repeat("#", int(n.Data[1]-'0')) + " " + content + "\n\n"
	case "blockquote":
		content = strings.Trim(content, "\n")
		return "\n\n> " + strings.ReplaceAll(content, "\n", "\n> ") + "\n\n"
	case "ul", "ol":
		if p := n.Parent; varsIsTag(p, "li") && varsLastElementChild(p) == n {
			return "\n" + content
		}
		return "\n\n" + content + "\n\n"
	case "li":
		return varsListItem(n, content, index)
	case "pre":
		if c := n.FirstChild; varsIsTag(c, "code") {
			return "\n\n    " + strings.ReplaceAll(m.textContent(c), "\n", "\n    ") + "\n\n"
		}
	case "hr":
		return "\n\n* * *\n\n"
	case "a":
		if href := varsAttr(n, "href"); href != "" {
			href = strings.NewReplacer("(", `\(`, ")", `\)`).Replace(href)
			title := varsCleanAttr(varsAttr(n, "title"))
			if title != "" {
				title = ` "` + strings.ReplaceAll(title, `"`, `\"`) + `"`
			}
			return "[" + content + "](" + href + title + ")"
		}
	case "em", "i":
		if varsJSTrim(content) == "" {
			return ""
		}
		return "_" + content + "_"
	case "strong", "b":
		if varsJSTrim(content) == "" {
			return ""
		}
		return "**" + content + "**"
	case "code":
		inBlock := varsIsTag(n.Parent, "pre") && n.PrevSibling == nil && n.NextSibling == nil
		if !inBlock {
			return varsInlineCode(content)
		}
	case "img":
		src := varsAttr(n, "src")
		if src == "" {
			return ""
		}
		title := varsCleanAttr(varsAttr(n, "title"))
		if title != "" {
			title = ` "` + title + `"`
		}
		return "![" + varsCleanAttr(varsAttr(n, "alt")) + "](" + src + title + ")"
	}
	if block {
		return "\n\n" + content + "\n\n"
	}
	return content
}

// varsListItem renders "*   item" or "<n>.  item", with continuation lines indented 4 spaces;
// index is the item's position among its parent's elements.
func varsListItem(n *html.Node, content string, index int) string {
	content = strings.TrimLeft(content, "\n")
	if trimmed := strings.TrimRight(content, "\n"); trimmed != content {
		content = trimmed + "\n"
	}
	content = strings.ReplaceAll(content, "\n", "\n    ")
	prefix := "*   "
	if p := n.Parent; varsIsTag(p, "ol") {
		number := float64(index + 1)
		if start := varsAttr(p, "start"); start != "" {
			number = condToNumber(start) + float64(index) // "NaN.  " for a bad start, as in turndown
		}
		prefix = varsJSNumber(number) + ".  "
	}
	if n.NextSibling != nil && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	return prefix + content
}

// varsInlineCode wraps content in enough backticks that none inside close it early.
func varsInlineCode(content string) string {
	if content == "" {
		return ""
	}
	content = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(content)
	extra := ""
	if strings.HasPrefix(content, "`") || strings.HasSuffix(content, "`") ||
		(len(content) > 2 && content[0] == ' ' && content[len(content)-1] == ' ' && strings.Trim(content, " ") != "") {
		extra = " "
	}
	delimiter := strings.Repeat("`", varsShortestMissingRun(content))
	return delimiter + extra + content + extra + delimiter
}

// varsShortestMissingRun is the smallest n ≥ 1 such that s holds no run of exactly n
// backticks, found in one pass (trying n = 1, 2, … each over s took the square of a text of
// ever longer runs).
func varsShortestMissingRun(s string) int {
	runs := map[int]bool{}
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		runs[j-i] = true
		i = j
	}
	n := 1
	for runs[n] {
		n++
	}
	return n
}

// isBlank reports an element with nothing to show: no text, no image or other void
// element, nothing meaningful when empty (links, table cells).
func (m *varsMarkdown) isBlank(n *html.Node) bool {
	if varsIsElem(n, varsVoidTags) || varsIsElem(n, varsMeaningfulBlankTags) {
		return false
	}
	if strings.TrimFunc(m.textContent(n), varsIsJSSpace) != "" {
		return false
	}
	return !m.hasDescendant(n, func(d *html.Node) bool {
		return varsIsElem(d, varsVoidTags) || varsIsElem(d, varsMeaningfulBlankTags)
	})
}

func (m *varsMarkdown) hasDescendant(n *html.Node, pred func(*html.Node) bool) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		m.spend(1)
		if pred(c) || m.hasDescendant(c, pred) {
			return true
		}
	}
	return false
}

// textContent is the text of n and its descendants, built in one buffer.
func (m *varsMarkdown) textContent(n *html.Node) string {
	var b strings.Builder
	m.writeText(&b, n)
	m.spend(b.Len())
	return b.String()
}

func (m *varsMarkdown) writeText(b *strings.Builder, n *html.Node) {
	m.spend(1)
	if n.Type == html.TextNode {
		b.WriteString(n.Data)
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		m.writeText(b, c)
	}
}

func varsLastElementChild(n *html.Node) *html.Node {
	for c := n.LastChild; c != nil; c = c.PrevSibling {
		if c.Type == html.ElementNode {
			return c
		}
	}
	return nil
}

func varsAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// varsCleanAttr folds line breaks (and the blank space after them) in an attribute to "\n".
func varsCleanAttr(s string) string {
	return varsAttrBreaks.ReplaceAllString(s, "\n")
}

// flankingSpace is the whitespace at the edges of an inline element's text that belongs
// outside its markup. ASCII whitespace is dropped when the neighbour already supplies a space.
func (m *varsMarkdown) flankingSpace(n *html.Node) (lead, trail string) {
	if varsIsElem(n, varsBlockTags) {
		return "", ""
	}
	text := m.textContent(n)
	isASCIISpace := func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }
	body := strings.TrimLeftFunc(text, varsIsJSSpace)
	lead = text[:len(text)-len(body)]
	// All-whitespace text counts as leading only (body and trail stay empty), as in turndown.
	leadASCII := lead[:len(lead)-len(strings.TrimLeftFunc(lead, isASCIISpace))]
	if leadASCII != "" && m.flankedBySpace(n.PrevSibling, true) {
		lead = lead[len(leadASCII):]
	}
	trail = body[len(strings.TrimRightFunc(body, varsIsJSSpace)):]
	trailASCII := trail[len(strings.TrimRightFunc(trail, isASCIISpace)):]
	if trailASCII != "" && m.flankedBySpace(n.NextSibling, false) {
		trail = trail[:len(trail)-len(trailASCII)]
	}
	return lead, trail
}

// flankedBySpace reports whether an inline neighbour ends (left) or starts (right) with a
// space.
func (m *varsMarkdown) flankedBySpace(sibling *html.Node, left bool) bool {
	var text string
	switch {
	case sibling == nil:
		return false
	case sibling.Type == html.TextNode:
		text = sibling.Data
	case sibling.Type == html.ElementNode && !varsIsElem(sibling, varsBlockTags):
		text = m.textContent(sibling)
	default:
		return false
	}
	if left {
		return strings.HasSuffix(text, " ")
	}
	return strings.HasPrefix(text, " ")
}
