package extract

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// ctxCheckEvery is how many rows/tokens pass between cancellation checks;
// checking on every row would cost more than the parsing itself.
const ctxCheckEvery = 256

// extractCSV renders rows as "header: value" lines, one block per row,
// blocks separated by a blank line (LangChain's CSVLoader layout). A file
// with only a header row renders the header as "a, b, c". Cells go to the
// output one by one, so the text cap stops a wide row midway instead of
// after it was rendered whole.
func extractCSV(ctx context.Context, data []byte, declared string, comma rune, out *textBuf) error {
	text, err := decodeText(data, declared)
	if err != nil {
		return err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = comma
	r.FieldsPerRecord = -1 // ragged rows are common in hand-made files
	r.LazyQuotes = true    // so is a stray quote inside an unquoted field
	r.ReuseRecord = true

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("parse CSV: %w", err)
	}
	header = slices.Clone(header) // the reader reuses the slice
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}

	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			if n == 0 {
				return out.WriteString(strings.Join(header, ", "))
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("parse CSV: %w", err)
		}
		sep := ""
		if n > 0 {
			sep = "\n\n"
		}
		for i, v := range row {
			if err := out.WriteStrings(sep, columnName(header, i), ": ", strings.TrimSpace(v)); err != nil {
				return err
			}
			sep = "\n"
		}
	}
}

// columnName names column i, inventing "column N" for blank or missing
// header cells so every value stays attributable.
func columnName(header []string, i int) string {
	if i < len(header) && header[i] != "" {
		return header[i]
	}
	return "column " + strconv.Itoa(i+1)
}
