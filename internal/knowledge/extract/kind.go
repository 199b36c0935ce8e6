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
	}
	// RTF is text/rtf but markup-heavy; better refused than shown raw.
	if isTextual(t) && t != "text/rtf" && !strings.HasPrefix(t, "text/vnd.") {
		return kindPlain
	}
	return kindUnsupported
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
		return extractJSON(data, charset, out)
	case kindHTML:
		return extractHTML(ctx, data, charset, out)
	case kindXML:
		return extractXML(ctx, data, out)
	case kindPDF:
		return extractPDF(ctx, data, out)
	}
	return ErrUnsupported
}
