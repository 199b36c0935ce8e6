package chatnodes

import (
	"bytes"
	"cmp"
	"context"
	"strings"

	"golang.org/x/net/html"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/knowledge/textsplit"
	"github.com/flowgate/flowgate/workflows/node"
)

// CheerioWebScraper loads one web page (url) through the guarded HTTP client, which refuses
// private and metadata addresses. selector picks the elements whose text is the document:
// a tag, .class, #id or tag.class / tag#id (Cheerio's full CSS is not supported); empty means
// the body. Crawling (relativeLinksMethod, limit) is not supported: only the page is loaded.
func (n *Nodes) CheerioWebScraper(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	target := strings.TrimSpace(nd.Input("url"))
	if target == "" {
		return node.Value{}, nodekit.FlowError("%s: url is required", nd.ID)
	}
	status, _, body, err := n.Send(ctx, "GET", target, map[string]string{"User-Agent": "Flowgate"}, "")
	if err != nil {
		return node.Value{}, err
	}
	if status >= 400 {
		return node.Value{}, nodekit.FlowError("%s: %s answered %d", nd.ID, target, status)
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return node.Value{}, nodekit.FlowError("%s: %s is not HTML: %v", nd.ID, target, err)
	}
	sel := parseSelector(cmp.Or(strings.TrimSpace(nd.Input("selector")), "body"))
	var b strings.Builder
	var walk func(*html.Node, bool)
	walk = func(h *html.Node, inside bool) {
		if h.Type == html.ElementNode && (h.Data == "script" || h.Data == "style" || h.Data == "noscript") {
			return
		}
		matched := inside || (h.Type == html.ElementNode && sel.matches(h))
		if matched && h.Type == html.TextNode {
			if t := strings.Join(strings.Fields(h.Data), " "); t != "" {
				if b.Len() > 0 {
					b.WriteString(" ")
				}
				b.WriteString(t)
			}
		}
		for c := h.FirstChild; c != nil; c = c.NextSibling {
			walk(c, matched)
		}
	}
	walk(doc, false)
	return loaded(req, []textsplit.Document{{PageContent: b.String(), Metadata: map[string]any{"source": target}}})
}

// selector is the subset of CSS the scraper understands: tag, .class, #id and their pairs.
type selector struct{ tag, class, id string }

func parseSelector(s string) selector {
	var sel selector
	s = strings.Fields(s)[0] // descendant combinators are not supported: the first part decides
	if i := strings.IndexAny(s, ".#"); i >= 0 {
		sel.tag, s = s[:i], s[i:]
		if rest, ok := strings.CutPrefix(s, "."); ok {
			sel.class = rest
		} else {
			sel.id = strings.TrimPrefix(s, "#")
		}
	} else {
		sel.tag = s
	}
	return sel
}

func (s selector) matches(h *html.Node) bool {
	if s.tag != "" && h.Data != s.tag {
		return false
	}
	attr := func(name string) string {
		for _, a := range h.Attr {
			if a.Key == name {
				return a.Val
			}
		}
		return ""
	}
	if s.id != "" && attr("id") != s.id {
		return false
	}
	if s.class != "" && !strings.Contains(" "+attr("class")+" ", " "+s.class+" ") {
		return false
	}
	return true
}
