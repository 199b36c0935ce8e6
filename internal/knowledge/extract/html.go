package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
)

// hiddenElems hold no visible text; their content is skipped.
var hiddenElems = map[atom.Atom]bool{
	atom.Head: true, atom.Title: true, atom.Script: true, atom.Style: true,
	atom.Noscript: true, atom.Template: true, atom.Svg: true, atom.Iframe: true,
	atom.Object: true, atom.Canvas: true,
}

// breakAfter says how many newlines separate a block element from its
// surroundings: 2 (blank line) for paragraph-like blocks, 1 for line-like.
var breakAfter = map[atom.Atom]int{
	atom.P: 2, atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Ul: 2, atom.Ol: 2, atom.Dl: 2, atom.Table: 2, atom.Blockquote: 2, atom.Pre: 2,
	atom.Section: 2, atom.Article: 2, atom.Header: 2, atom.Footer: 2, atom.Nav: 2,
	atom.Aside: 2, atom.Main: 2, atom.Figure: 2, atom.Form: 2, atom.Hr: 2,
	atom.Address: 2, atom.Fieldset: 2, atom.Details: 2,
	atom.Div: 1, atom.Li: 1, atom.Tr: 1, atom.Dt: 1, atom.Dd: 1, atom.Caption: 1,
	atom.Figcaption: 1, atom.Summary: 1, atom.Legend: 1, atom.Thead: 1, atom.Tbody: 1,
}

// extractHTML writes the visible text of an HTML document.
func extractHTML(ctx context.Context, data []byte, declared string, out *textBuf) error {
	text, err := decodeHTML(data, declared)
	if err != nil {
		return err
	}
	z := html.NewTokenizer(strings.NewReader(text))
	w := &htmlText{out: out, hidden: map[atom.Atom]int{}}
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return nil
			}
			return fmt.Errorf("parse HTML: %w", z.Err())
		case html.TextToken:
			if w.isHidden() {
				continue
			}
			if err := w.text(string(z.Text())); err != nil {
				return err
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			w.start(atom.Lookup(name), tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			w.end(atom.Lookup(name))
		}
	}
}

// decodeHTML converts to UTF-8, honouring a declared charset, a BOM or a
// <meta charset> (charset.DetermineEncoding does the latter two).
func decodeHTML(data []byte, declared string) (string, error) {
	if declared != "" || bytes.HasPrefix(data, bomUTF16LE) || bytes.HasPrefix(data, bomUTF16BE) {
		return decodeText(data, declared)
	}
	enc, name, _ := charset.DetermineEncoding(data, "text/html")
	if name == "utf-8" {
		return decodeText(data, "")
	}
	b, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decode %s: %w", name, err)
	}
	return string(b), nil
}

// htmlText turns the token stream into readable text: whitespace is
// collapsed as a browser would, block boundaries become pending line breaks
// that are only emitted once more text follows (so no leading/trailing or
// runs of blank lines), and table cells on a row are joined with " | ".
type htmlText struct {
	out       *textBuf
	hidden    map[atom.Atom]int // open hidden elements by tag
	pre       int               // depth of <pre>/<textarea>
	breaks    int               // pending newlines (0-2)
	sep       string            // pending inline separator
	cells     int               // cells seen in the current row
	wroteAny  bool
	endsInNL  bool
	hiddenCnt int
}

func (w *htmlText) isHidden() bool { return w.hiddenCnt > 0 }

func (w *htmlText) start(a atom.Atom, selfClosing bool) {
	if hiddenElems[a] {
		if !selfClosing {
			w.hidden[a]++
			w.hiddenCnt++
		}
		return
	}
	switch a {
	case atom.Body:
		// <body> implicitly closes an unterminated <head>.
		w.hiddenCnt -= w.hidden[atom.Head]
		w.hidden[atom.Head] = 0
	case atom.Br:
		w.breaks = min(w.breaks+1, 2) // <br><br> is a blank line
		return
	case atom.Pre, atom.Textarea:
		if !selfClosing {
			w.pre++
		}
	case atom.Tr:
		w.cells = 0
	case atom.Td, atom.Th:
		if w.cells > 0 {
			w.sep = " | "
		}
		w.cells++
	}
	w.breaks = max(w.breaks, breakAfter[a])
}

func (w *htmlText) end(a atom.Atom) {
	if hiddenElems[a] {
		if w.hidden[a] > 0 {
			w.hidden[a]--
			w.hiddenCnt--
		}
		return
	}
	if (a == atom.Pre || a == atom.Textarea) && w.pre > 0 {
		w.pre--
	}
	w.breaks = max(w.breaks, breakAfter[a])
}

// text writes a text node, collapsing whitespace outside <pre>.
func (w *htmlText) text(s string) error {
	if w.pre > 0 {
		if s == "" {
			return nil
		}
		if err := w.flushPending(); err != nil {
			return err
		}
		return w.write(s)
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		if s != "" && w.sep == "" {
			w.sep = " "
		}
		return nil
	}
	if s[0] != fields[0][0] && w.sep == "" {
		w.sep = " " // leading whitespace separates from the previous node
	}
	if err := w.flushPending(); err != nil {
		return err
	}
	if err := w.write(strings.Join(fields, " ")); err != nil {
		return err
	}
	if last := fields[len(fields)-1]; !strings.HasSuffix(s, last) {
		w.sep = " "
	}
	return nil
}

// flushPending emits the pending break or separator before new text.
func (w *htmlText) flushPending() error {
	breaks, sep := w.breaks, w.sep
	w.breaks, w.sep = 0, ""
	if !w.wroteAny {
		return nil
	}
	if breaks > 0 {
		if w.endsInNL {
			breaks-- // text in <pre> already ended the line
		}
		return w.write(strings.Repeat("\n", breaks))
	}
	if w.endsInNL {
		return nil
	}
	return w.write(sep)
}

func (w *htmlText) write(s string) error {
	if s == "" {
		return nil
	}
	w.wroteAny = true
	w.endsInNL = strings.HasSuffix(s, "\n")
	return w.out.WriteString(s)
}
