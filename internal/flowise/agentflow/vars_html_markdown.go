package agentflow

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// The element rules of PlainText: each element becomes markdown the way turndown's CommonMark
// rules write it, and converted pieces are joined with at most one blank line between blocks.

// varsAttrBreaks matches line breaks in an attribute with the blank space that follows them.
var varsAttrBreaks = regexp.MustCompile(`(\n+\s*)+`)

// varsConvertChildren converts a node's children and joins them.
func varsConvertChildren(parent *html.Node) string {
	out := ""
	for c := parent.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			out = varsJoinBlocks(out, c.Data)
		case html.ElementNode:
			out = varsJoinBlocks(out, varsConvertElement(c))
		}
	}
	return out
}

// varsJoinBlocks appends next to out, keeping at most two newlines between them: the larger of
// the newlines out ends with and next starts with.
func varsJoinBlocks(out, next string) string {
	s1 := strings.TrimRight(out, "\n")
	s2 := strings.TrimLeft(next, "\n")
	nls := min(max(len(out)-len(s1), len(next)-len(s2)), 2)
	return s1 + "\n\n"[:nls] + s2
}

// varsConvertElement converts one element: whitespace at the edges of an inline element moves
// outside its markup ("<b> x </b>" → " **x** ").
func varsConvertElement(n *html.Node) string {
	content := varsConvertChildren(n)
	lead, trail := varsFlankingSpace(n)
	if lead != "" || trail != "" {
		content = varsJSTrim(content)
	}
	return lead + varsElementMarkdown(n, content) + trail
}

// varsElementMarkdown is the markdown for element n whose converted content is content.
func varsElementMarkdown(n *html.Node, content string) string {
	block := varsIsElem(n, varsBlockTags)
	if varsIsBlank(n) {
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
		return varsListItem(n, content)
	case "pre":
		if c := n.FirstChild; varsIsTag(c, "code") {
			return "\n\n    " + strings.ReplaceAll(varsTextContent(c), "\n", "\n    ") + "\n\n"
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

// varsListItem renders "*   item" or "<n>.  item", with continuation lines indented 4 spaces.
func varsListItem(n *html.Node, content string) string {
	content = strings.TrimLeft(content, "\n")
	if trimmed := strings.TrimRight(content, "\n"); trimmed != content {
		content = trimmed + "\n"
	}
	content = strings.ReplaceAll(content, "\n", "\n    ")
	prefix := "*   "
	if p := n.Parent; varsIsTag(p, "ol") {
		index := 0
		for c := p.FirstChild; c != nil && c != n; c = c.NextSibling {
			if c.Type == html.ElementNode {
				index++
			}
		}
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
	delimiter := "`"
	for varsHasBacktickRun(content, len(delimiter)) {
		delimiter += "`"
	}
	return delimiter + extra + content + extra + delimiter
}

// varsHasBacktickRun reports whether s holds a run of exactly n backticks.
func varsHasBacktickRun(s string, n int) bool {
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '`' {
			j++
		}
		if j-i == n {
			return true
		}
		i = j
	}
	return false
}

// varsIsBlank reports an element with nothing to show: no text, no image or other void
// element, nothing meaningful when empty (links, table cells).
func varsIsBlank(n *html.Node) bool {
	if varsIsElem(n, varsVoidTags) || varsIsElem(n, varsMeaningfulBlankTags) {
		return false
	}
	if strings.TrimFunc(varsTextContent(n), varsIsJSSpace) != "" {
		return false
	}
	return !varsHasDescendant(n, func(d *html.Node) bool {
		return varsIsElem(d, varsVoidTags) || varsIsElem(d, varsMeaningfulBlankTags)
	})
}

func varsHasDescendant(n *html.Node, pred func(*html.Node) bool) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if pred(c) || varsHasDescendant(c, pred) {
			return true
		}
	}
	return false
}

func varsTextContent(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(varsTextContent(c))
	}
	return b.String()
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

// varsFlankingSpace is the whitespace at the edges of an inline element's text that belongs
// outside its markup. ASCII whitespace is dropped when the neighbour already supplies a space.
func varsFlankingSpace(n *html.Node) (lead, trail string) {
	if varsIsElem(n, varsBlockTags) {
		return "", ""
	}
	text := varsTextContent(n)
	isASCIISpace := func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }
	body := strings.TrimLeftFunc(text, varsIsJSSpace)
	lead = text[:len(text)-len(body)]
	// All-whitespace text counts as leading only (body and trail stay empty), as in turndown.
	leadASCII := lead[:len(lead)-len(strings.TrimLeftFunc(lead, isASCIISpace))]
	if leadASCII != "" && varsFlankedBySpace(n.PrevSibling, true) {
		lead = lead[len(leadASCII):]
	}
	trail = body[len(strings.TrimRightFunc(body, varsIsJSSpace)):]
	trailASCII := trail[len(strings.TrimRightFunc(trail, isASCIISpace)):]
	if trailASCII != "" && varsFlankedBySpace(n.NextSibling, false) {
		trail = trail[:len(trail)-len(trailASCII)]
	}
	return lead, trail
}

// varsFlankedBySpace reports whether an inline neighbour ends (left) or starts (right) with a
// space.
func varsFlankedBySpace(sibling *html.Node, left bool) bool {
	var text string
	switch {
	case sibling == nil:
		return false
	case sibling.Type == html.TextNode:
		text = sibling.Data
	case sibling.Type == html.ElementNode && !varsIsElem(sibling, varsBlockTags):
		text = varsTextContent(sibling)
	default:
		return false
	}
	if left {
		return strings.HasSuffix(text, " ")
	}
	return strings.HasPrefix(text, " ")
}
