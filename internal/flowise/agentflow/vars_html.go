package agentflow

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Flowise's editor can save a text input as rich-text HTML (the marketplace templates are full
// of "<p><span class=\"variable\" …>{{ $flow.state.next }}</span> </p>"). Before resolving
// variables Flowise converts such HTML to markdown with the turndown library (default options,
// escaping switched off), so "<p>SOFTWARE</p>" becomes "SOFTWARE" and paragraphs become blank-line
// separated text. PlainText reproduces turndown's output for the elements that editor writes.

// PlainText converts editor HTML to the markdown text Flowise works from: whitespace collapsed as
// a browser would, block elements separated by blank lines, <br> as "  \n", **strong**, _em_,
// `code`, [links](href), setext h1/h2 and "### " headings, "*   " and "1.  " list items, "> "
// quotes and 4-space indented code blocks, with leading and trailing blank space trimmed.
// HTML the parser refuses (nested over 512 deep), or nested so that converting it would copy
// more than a bounded multiple of its length, is returned as written.
func PlainText(htmlText string) string {
	if htmlText == "" {
		return ""
	}
	root, err := varsParseHTML(htmlText)
	if err != nil {
		return htmlText // nested too deep; keep the text rather than lose it
	}
	m := &varsMarkdown{budget: varsMarkdownBudget(len(htmlText))}
	out := m.children(root)
	if m.over() {
		return htmlText // pathological nesting: see varsMarkdown
	}
	out = strings.TrimLeft(out, "\t\r\n")
	return strings.TrimRightFunc(out, varsIsJSSpace)
}

// varsParseHTML parses editor HTML into a tree under an "x-root" element, with whitespace
// collapsed as a browser shows it.
func varsParseHTML(htmlText string) (*html.Node, error) {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(htmlText), body)
	if err != nil {
		return nil, err
	}
	root := &html.Node{Type: html.ElementNode, Data: "x-root"}
	for _, n := range nodes {
		root.AppendChild(n)
	}
	varsCollapseWhitespace(root)
	return root, nil
}

var (
	varsBlockTags = varsTagSet("address", "article", "aside", "audio", "blockquote", "body",
		"canvas", "center", "dd", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure",
		"footer", "form", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
		"html", "isindex", "li", "main", "menu", "nav", "noframes", "noscript", "ol", "output", "p",
		"pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul")
	varsVoidTags = varsTagSet("area", "base", "br", "col", "command", "embed", "hr", "img",
		"input", "keygen", "link", "meta", "param", "source", "track", "wbr")
	// Elements that mean something even with no text (a link, a table cell).
	varsMeaningfulBlankTags = varsTagSet("a", "table", "thead", "tbody", "tfoot", "th", "td",
		"iframe", "script", "audio", "video")
)

func varsTagSet(tags ...string) map[string]bool {
	set := make(map[string]bool, len(tags))
	for _, t := range tags {
		set[t] = true
	}
	return set
}

func varsIsElem(n *html.Node, tags map[string]bool) bool {
	return n != nil && n.Type == html.ElementNode && tags[n.Data]
}

func varsIsTag(n *html.Node, tag string) bool {
	return n != nil && n.Type == html.ElementNode && n.Data == tag
}

// varsCollapseWhitespace collapses runs of ASCII whitespace in text to one space and drops the
// spaces a browser would not show (at the edges of blocks and after another space), leaving
// <pre> alone. It walks the tree in document order, visiting an element both on the way in
// and on the way out, as turndown's collapse-whitespace does.
func varsCollapseWhitespace(root *html.Node) {
	if root.FirstChild == nil {
		return
	}
	var prevText, prev *html.Node
	keepLeadingSpace := false
	node := varsNextInWalk(nil, root)
	for node != root {
		switch node.Type {
		case html.TextNode:
			text := varsCollapseRuns(node.Data)
			if (prevText == nil || strings.HasSuffix(prevText.Data, " ")) && !keepLeadingSpace &&
				strings.HasPrefix(text, " ") {
				text = text[1:]
			}
			if text == "" {
				node = varsRemoveNode(node)
				continue
			}
			node.Data = text
			prevText = node
		case html.ElementNode:
			switch {
			case varsIsElem(node, varsBlockTags) || varsIsTag(node, "br"):
				if prevText != nil {
					prevText.Data = strings.TrimSuffix(prevText.Data, " ")
				}
				prevText, keepLeadingSpace = nil, false
			case varsIsElem(node, varsVoidTags) || varsIsTag(node, "pre"):
				// Spaces next to an inline image or inline <pre> are visible.
				prevText, keepLeadingSpace = nil, true
			case prevText != nil:
				keepLeadingSpace = false
			}
		default: // comments, doctypes
			node = varsRemoveNode(node)
			continue
		}
		next := varsNextInWalk(prev, node)
		prev, node = node, next
	}
	if prevText != nil {
		prevText.Data = strings.TrimSuffix(prevText.Data, " ")
		if prevText.Data == "" {
			varsRemoveNode(prevText)
		}
	}
}

// varsCollapseRuns replaces each run of spaces, tabs, CRs and LFs with one space.
func varsCollapseRuns(s string) string {
	var b strings.Builder
	inRun := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			if !inRun {
				b.WriteByte(' ')
			}
			inRun = true
			continue
		}
		inRun = false
		b.WriteRune(r)
	}
	return b.String()
}

// varsNextInWalk steps the document-order walk: into children, else to the next sibling, else
// back up to the parent (which is then visited again); <pre> is never entered.
func varsNextInWalk(prev, cur *html.Node) *html.Node {
	if (prev != nil && prev.Parent == cur) || varsIsTag(cur, "pre") {
		if cur.NextSibling != nil {
			return cur.NextSibling
		}
		return cur.Parent
	}
	if cur.FirstChild != nil {
		return cur.FirstChild
	}
	if cur.NextSibling != nil {
		return cur.NextSibling
	}
	return cur.Parent
}

func varsRemoveNode(n *html.Node) *html.Node {
	next := n.NextSibling
	if next == nil {
		next = n.Parent
	}
	n.Parent.RemoveChild(n)
	return next
}
