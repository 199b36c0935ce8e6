package extract

import (
	"context"
	"strings"
)

// kind is an extraction strategy.
type kind int

const (
	kindUnsupported kind = iota
	kindPlain
	kindCSV
	kindTSV
	kindJSON
	kindHTML
	kindXML
	kindPDF
	kindDOCX
)

// kindOf maps a canonical MIME type to its extraction strategy.
func kindOf(t string) kind {
	switch t {
	case mimeCSV:
		return kindCSV
	case mimeTSV:
		return kindTSV
	case mimeJSON:
		return kindJSON
	case mimeHTML:
		return kindHTML
	case mimeXML:
		return kindXML
	case mimePDF:
		return kindPDF
	case mimeDOCX:
		return kindDOCX
	}
	// RTF is text/rtf but markup-heavy; better refused than shown raw.
	if isTextual(t) && t != "text/rtf" && !strings.HasPrefix(t, "text/vnd.") {
		return kindPlain
	}
	return kindUnsupported
}

// smallInput is the largest input a tokenizer we do not own (encoding/csv,
// encoding/xml, x/net/html) parses in this process. They run in linear time,
// but keep a record's fields or a tag's attributes in lists: a CSV row of
// empty fields allocates ~140 bytes per input byte, a tag of short
// attributes ~50. Below this size that stays under 32 MB, less than a large
// plain-text upload costs anyway (TestInProcessMemoryIsBounded measures it).
const smallInput = 256 << 10

// inProcess reports whether k's parser may run in this process on n bytes;
// the others run in a child process under OS limits (isolate.go). Our own
// parsers are bounded by design: linear time, nesting capped, memory a small
// multiple of the input, output stopped at the cap. The PDF library can loop
// for ever or exhaust the stack on a few hundred bytes, so it never runs
// here.
func (k kind) inProcess(n int) bool {
	switch k {
	case kindPlain, kindJSON, kindDOCX:
		return true
	case kindCSV, kindTSV, kindHTML, kindXML:
		return n <= smallInput
	}
	return false
}

// extract writes the text of data to out. charset is the declared charset
// parameter, if any.
func (k kind) extract(ctx context.Context, data []byte, charset string, out *textBuf) error {
	switch k {
	case kindPlain:
		s, err := decodeText(data, charset)
		if err != nil {
			return err
		}
		return out.WriteString(s)
	case kindCSV:
		return extractCSV(ctx, data, charset, ',', out)
	case kindTSV:
		return extractCSV(ctx, data, charset, '\t', out)
	case kindJSON:
		return extractJSON(ctx, data, charset, out)
	case kindHTML:
		return extractHTML(ctx, data, charset, out)
	case kindXML:
		return extractXML(ctx, data, out)
	case kindPDF:
		return extractPDF(ctx, data, out)
	case kindDOCX:
		return extractDOCX(ctx, data, out)
	}
	return ErrUnsupported
}
