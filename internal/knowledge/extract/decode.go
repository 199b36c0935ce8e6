package extract

import (
	"bytes"
	"fmt"
	"strings"
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

// decodeText converts data to UTF-8. A byte-order mark wins, then the
// declared charset; valid UTF-8 is kept; anything else is taken as
// Windows-1252, which is what spreadsheet exports on Windows usually are and
// what browsers fall back to as well.
func decodeText(data []byte, declared string) (string, error) {
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		return strings.ToValidUTF8(string(data[3:]), "\uFFFD"), nil
	case bytes.HasPrefix(data, bomUTF16LE):
		return decodeUTF16(data[2:], false), nil
	case bytes.HasPrefix(data, bomUTF16BE):
		return decodeUTF16(data[2:], true), nil
	}
	if declared != "" {
		enc, name := charset.Lookup(declared)
		if enc == nil {
			return "", fmt.Errorf("unknown charset %q", declared)
		}
		if name != "utf-8" {
			out, err := enc.NewDecoder().Bytes(data)
			if err != nil {
				return "", fmt.Errorf("decode %s: %w", name, err)
			}
			return string(out), nil
		}
	}
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decode windows-1252: %w", err)
	}
	return string(out), nil
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
