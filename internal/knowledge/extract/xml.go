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
func extractXML(ctx context.Context, data []byte, out *textBuf) error {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, bomUTF8)))
	d.Strict = false // accept HTML entities and sloppy markup users upload
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	first := true
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
		cd, ok := tok.(xml.CharData)
		if !ok {
			continue
		}
		s := strings.TrimSpace(string(cd))
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
