package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"
)

// pdfAbort is panicked out of the content-stream callback to stop
// interpretation (cancellation or full output); pdf.Interpret offers no other
// way to stop early.
type pdfAbort struct{ err error }

// extractPDF writes the text of every page in order, pages separated by a
// blank line. The pdf package reports many parse errors by panicking, so
// every call into it runs under recover and panics become errors.
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
	pages := rd.NumPage()
	if pages <= 0 {
		return errors.New("corrupt PDF: no pages")
	}
	wrote := false
	for i := 1; i <= pages; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := rd.Page(i)
		if p.V.IsNull() {
			// The page tree holds fewer pages than /Count claims; stopping
			// here also keeps a bogus huge /Count from spinning the loop.
			if i == 1 {
				return errors.New("corrupt PDF: page 1 not found")
			}
			break
		}
		text, err := pageText(ctx, p, out.Remaining())
		if err != nil {
			return fmt.Errorf("page %d: %w", i, err)
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
	return nil
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
func pageText(ctx context.Context, p pdf.Page, limit int) (text string, err error) {
	t := newPDFText(p)
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
	contents := p.V.Key("Contents")
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
