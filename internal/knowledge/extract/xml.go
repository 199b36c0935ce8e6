package extract

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// extractXML writes the character data of every element, one trimmed chunk
// per line. Markup, comments and processing instructions are dropped.
// Nesting is bounded: the decoder keeps a stack entry per open element.
// encoding/xml expands no entities but the predefined and HTML ones, so
// there is no entity blow-up to guard against.
func extractXML(ctx context.Context, data []byte, out *textBuf) error {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, bomUTF8)))
	d.Strict = false // accept HTML entities and sloppy markup users upload
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	first, depth := true, 0
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parse XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxNesting {
				return fmt.Errorf("XML nests deeper than %d elements (byte %d)", maxNesting, d.InputOffset())
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			s := strings.TrimSpace(string(t))
			if s == "" {
				continue
			}
			if !first {
				s = "\n" + s
			}
			first = false
			if err := out.WriteString(s); err != nil {
				return err
			}
		}
	}
}
