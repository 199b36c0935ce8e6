package extract

import (
	"math"
	"strings"
	"unicode"

	"github.com/ledongthuc/pdf"
)

// kernSpace is the TJ adjustment (thousandths of an em, negative = move
// right) from which a gap reads as a word break. Producers that omit space
// glyphs use ~250; kerning inside words stays well below 200.
const kernSpace = -200

// matrix is a PDF affine matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m × n in PDF's row-vector convention.
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2],
		m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2],
		m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4],
		m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// pdfText rebuilds reading text from a content stream. It improves on the
// library's Page.GetPlainText, which concatenates lines and words positioned
// with Td/Tm without any separator: here a change of baseline starts a new
// line and a repositioning on the same baseline (or a wide TJ gap) becomes a
// space. Text is assumed horizontal and in stream order, true of nearly all
// generated documents.
type pdfText struct {
	b         strings.Builder
	resources pdf.Value // the page's, inherited or its own
	fonts     map[string]pdf.TextEncoding
	enc       pdf.TextEncoding
	fontSize  float64
	tm, tlm   matrix
	leading   float64

	shown   bool    // text already shown on this page
	lastY   float64 // baseline of the last shown text
	moved   bool    // repositioned since the last shown text
	newLine bool    // T*, ' or " asked for a new line
	kernGap bool    // a wide TJ adjustment since the last shown text
}

func newPDFText(resources pdf.Value) *pdfText {
	return &pdfText{resources: resources, fonts: map[string]pdf.TextEncoding{}, tm: identity, tlm: identity}
}

func arg(args []pdf.Value, i int) float64 {
	if i < len(args) {
		return args[i].Float64()
	}
	return 0
}

func (t *pdfText) op(op string, args []pdf.Value) {
	switch op {
	case "BT":
		t.tm, t.tlm = identity, identity
		t.moved = true
	case "Tf":
		if len(args) == 2 {
			t.enc = t.font(args[0].Name())
			t.fontSize = args[1].Float64()
		}
	case "TL":
		t.leading = arg(args, 0)
	case "Td":
		t.translate(arg(args, 0), arg(args, 1))
	case "TD":
		t.leading = -arg(args, 1)
		t.translate(arg(args, 0), arg(args, 1))
	case "Tm":
		if len(args) == 6 {
			for i := range t.tlm {
				t.tlm[i] = args[i].Float64()
			}
			t.tm = t.tlm
			t.moved = true
		}
	case "T*":
		t.nextLine()
	case "'":
		t.nextLine()
		if len(args) == 1 {
			t.show(args[0].RawString())
		}
	case `"`:
		t.nextLine()
		if len(args) == 3 {
			t.show(args[2].RawString())
		}
	case "Tj":
		if len(args) == 1 {
			t.show(args[0].RawString())
		}
	case "TJ":
		if len(args) != 1 {
			return
		}
		a := args[0]
		for i := 0; i < a.Len(); i++ {
			v := a.Index(i)
			if v.Kind() == pdf.String {
				t.show(v.RawString())
			} else if v.Float64() <= kernSpace {
				t.kernGap = true
			}
		}
	}
}

func (t *pdfText) translate(tx, ty float64) {
	t.tlm = matrix{1, 0, 0, 1, tx, ty}.mul(t.tlm)
	t.tm = t.tlm
	t.moved = true
}

func (t *pdfText) nextLine() {
	t.translate(0, -t.leading)
	t.newLine = true
}

// font returns the decoder for a font resource, cached per page because
// parsing a ToUnicode CMap is the expensive part.
func (t *pdfText) font(name string) pdf.TextEncoding {
	if enc, ok := t.fonts[name]; ok {
		return enc
	}
	var enc pdf.TextEncoding
	if f := (pdf.Font{V: t.resources.Key("Font").Key(name)}); !f.V.IsNull() {
		enc = f.Encoder()
	}
	t.fonts[name] = enc
	return enc
}

func (t *pdfText) show(raw string) {
	s := raw
	if t.enc != nil {
		s = t.enc.Decode(raw)
	}
	s = strings.Map(func(r rune) rune {
		if r == 0 || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if s == "" {
		return
	}

	y := t.tm[5]
	if t.shown {
		// Half the effective font height tolerates super/subscripts.
		size := t.fontSize * math.Hypot(t.tm[2], t.tm[3])
		tol := math.Max(1, 0.5*math.Abs(size))
		switch {
		case t.newLine || math.Abs(y-t.lastY) > tol:
			t.sep("\n")
		case t.moved || t.kernGap:
			if r := []rune(s); !unicode.IsSpace(r[0]) {
				t.sep(" ")
			}
		}
	}
	t.b.WriteString(s)
	t.shown, t.lastY = true, y
	t.moved, t.newLine, t.kernGap = false, false, false
}

// sep writes a separator unless the text already ends in whitespace.
func (t *pdfText) sep(s string) {
	str := t.b.String()
	if str == "" {
		return
	}
	last := str[len(str)-1]
	if last == '\n' || (s == " " && (last == ' ' || last == '\t')) {
		return
	}
	if s == "\n" && last == ' ' {
		// Drop the trailing space so lines don't end in blanks.
		trimmed := strings.TrimRight(str, " ")
		t.b.Reset()
		t.b.WriteString(trimmed)
	}
	t.b.WriteString(s)
}
