package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/ledongthuc/pdf"
)

// pdfAbort is panicked out of the content-stream callback to stop
// interpretation (cancellation or full output); pdf.Interpret offers no other
// way to stop early.
type pdfAbort struct{ err error }

// maxPageTreeNodes bounds the page-tree objects (pages and the nodes above
// them) read from one file; 100,000 pages of text far exceed the text cap.
const maxPageTreeNodes = 100_000

// extractPDF writes the text of every page in order, pages separated by a
// blank line. The pdf package reports many parse errors by panicking, so
// every call into it runs under recover and panics become errors.
//
// Pages are found by walking the page tree here, not with the package's
// Reader.Page, which descends into a node that lists itself for ever and
// follows a page's /Parent chain for ever when it looks up fonts. That
// refuses self-reference we can see; what only the library sees (a loop in
// the cross-reference chain, a stream inflating to gigabytes) is stopped by
// running it in a child process with OS limits (isolate.go).
func extractPDF(ctx context.Context, data []byte, out *textBuf) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicToErr(r)
		}
	}()

	data = pdf2Compat(data)
	rd, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("open PDF: %w", err)
	}
	root := rd.Trailer().Key("Root").Key("Pages")
	if root.IsNull() {
		return errors.New("corrupt PDF: no page tree")
	}
	n, wrote := 0, false
	for p, err := range pageTree(root) {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n++
		text, err := pageText(ctx, p, out.Remaining())
		if err != nil {
			return fmt.Errorf("page %d: %w", n, err)
		}
		if text == "" {
			continue
		}
		if wrote {
			text = "\n\n" + text
		}
		wrote = true
		if err := out.WriteString(text); err != nil {
			return err
		}
	}
	if n == 0 {
		return errors.New("corrupt PDF: no pages")
	}
	return nil
}

// pdfPage is a page dictionary with the resources (fonts) it inherits.
type pdfPage struct {
	v, resources pdf.Value
}

// pageTree yields the pages below root in document order. Every node is
// read at most once: a node reached twice (a cycle, or a subtree listed
// twice) ends the walk with an error, as does passing maxPageTreeNodes.
// Inherited resources are handed down from the node above, never looked up
// through /Parent, which a hostile file can point anywhere.
func pageTree(root pdf.Value) iter.Seq2[pdfPage, error] {
	return func(yield func(pdfPage, error) bool) {
		seen := map[string]bool{}
		stack := []pdfPage{{v: root}}
		for len(stack) > 0 {
			node := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if res := node.v.Key("Resources"); !res.IsNull() {
				node.resources = res
			}
			kids := node.v.Key("Kids")
			if node.v.Key("Type").Name() != "Pages" && kids.Kind() != pdf.Array {
				if !yield(node, nil) {
					return
				}
				continue
			}
			refs, ok := kidRefs(kids)
			if !ok {
				yield(pdfPage{}, errors.New("corrupt PDF: page tree /Kids is not an array of references"))
				return
			}
			if len(seen)+len(refs) > maxPageTreeNodes {
				yield(pdfPage{}, fmt.Errorf("PDF page tree has more than %d nodes", maxPageTreeNodes))
				return
			}
			// Pushed last to first, so the first kid is read next.
			for i := len(refs) - 1; i >= 0; i-- {
				if seen[refs[i]] {
					yield(pdfPage{}, fmt.Errorf("corrupt PDF: the page tree reaches object %s twice", refs[i]))
					return
				}
				seen[refs[i]] = true
				stack = append(stack, pdfPage{v: kids.Index(i), resources: node.resources})
			}
		}
	}
}

// kidRefs returns the references ("4 0 R") of a /Kids array. The pdf
// package hides object numbers but prints an array of references as
// "[4 0 R 6 0 R]"; /Kids must be exactly that (ISO 32000-1, 7.7.3.2), so
// anything else is refused (ok false).
func kidRefs(kids pdf.Value) ([]string, bool) {
	if kids.Kind() != pdf.Array {
		return nil, false
	}
	s := kids.String()
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, false
	}
	f := strings.Fields(s[1 : len(s)-1])
	if len(f) != 3*kids.Len() {
		return nil, false
	}
	refs := make([]string, 0, kids.Len())
	for i := 0; i < len(f); i += 3 {
		if !isDigits(f[i]) || !isDigits(f[i+1]) || f[i+2] != "R" {
			return nil, false
		}
		refs = append(refs, strings.Join(f[i:i+3], " "))
	}
	return refs, true
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// pdf2Compat lets PDF 2.0 files through the library's "%PDF-1.x" header
// check. The replacement has the same length, so xref offsets stay valid;
// the 2.0 features that matter for text extraction are read the same way.
func pdf2Compat(data []byte) []byte {
	if !bytes.HasPrefix(data, []byte("%PDF-2.")) {
		return data
	}
	c := bytes.Clone(data)
	copy(c, "%PDF-1.7")
	return c
}

func panicToErr(r any) error {
	if a, ok := r.(pdfAbort); ok {
		return a.err
	}
	if e, ok := r.(error); ok {
		return fmt.Errorf("corrupt PDF: %w", e)
	}
	return fmt.Errorf("corrupt PDF: %v", r)
}

// pageText interprets one page's content stream. limit bounds the text
// gathered so a page cannot grow past what the output can still take.
func pageText(ctx context.Context, p pdfPage, limit int) (text string, err error) {
	t := newPDFText(p.resources)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if a, ok := r.(pdfAbort); ok && a.err == nil {
			text, err = strings.TrimSpace(t.b.String()), nil
			return
		}
		err = panicToErr(r)
	}()
	contents := p.v.Key("Contents")
	if contents.IsNull() {
		return "", nil
	}
	ops := 0
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		ops++
		if ops%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				panic(pdfAbort{err})
			}
		}
		args := make([]pdf.Value, stk.Len())
		for i := len(args) - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		t.op(op, args)
		if t.b.Len() > limit {
			// Keep what fits; extractPDF's write reports errFull.
			panic(pdfAbort{nil})
		}
	})
	return strings.TrimSpace(t.b.String()), nil
}
