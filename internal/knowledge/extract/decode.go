package extract

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decodeText converts data to UTF-8 text; see decode.
func decodeText(data []byte, declared string) (string, error) {
	b, err := decode(data, declared)
	return string(b), err
}

// decode converts data to UTF-8. A byte-order mark wins, then the declared
// charset; valid UTF-8 is kept; anything else is taken as Windows-1252,
// which is what spreadsheet exports on Windows usually are and what
// browsers fall back to as well. Input that needs no conversion is returned
// as is, not copied.
func decode(data []byte, declared string) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		if b := data[3:]; utf8.Valid(b) {
			return b, nil
		}
		return bytes.ToValidUTF8(data[3:], []byte("\uFFFD")), nil
	case bytes.HasPrefix(data, bomUTF16LE):
		return []byte(decodeUTF16(data[2:], false)), nil
	case bytes.HasPrefix(data, bomUTF16BE):
		return []byte(decodeUTF16(data[2:], true)), nil
	}
	if declared != "" {
		enc, name := charset.Lookup(declared)
		if enc == nil {
			return nil, fmt.Errorf("unknown charset %q", declared)
		}
		if name != "utf-8" {
			out, err := enc.NewDecoder().Bytes(data)
			if err != nil {
				return nil, fmt.Errorf("decode %s: %w", name, err)
			}
			return out, nil
		}
	}
	if utf8.Valid(data) {
		return data, nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return nil, fmt.Errorf("decode windows-1252: %w", err)
	}
	return out, nil
}

// decodeUTF16 decodes BOM-less UTF-16; an odd trailing byte is dropped.
func decodeUTF16(b []byte, bigEndian bool) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(units))
}
