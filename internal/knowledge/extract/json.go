package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// extractJSON re-indents the document. json.Indent rather than
// Unmarshal+Marshal keeps key order and number spelling exactly as uploaded.
func extractJSON(data []byte, declared string, out *textBuf) error {
	text, err := decodeText(data, declared)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(text), "", "  "); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return out.WriteString(buf.String())
}
