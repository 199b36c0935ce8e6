package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
)

const mimeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// maxDOCXXML bounds the uncompressed word/document.xml read from a .docx: a zip entry can
// inflate a thousandfold, so the declared size is not trusted and the read stops at the bound.
const maxDOCXXML = 64 << 20

// maxDOCXEntries bounds the zip's directory: a real document has a few dozen parts.
const maxDOCXEntries = 10_000

// extractDOCX writes the text of a Word document: the runs of text (w:t) of word/document.xml,
// tabs (w:tab) as tabs, breaks (w:br, w:cr) as newlines and a newline after each paragraph.
// It scans the XML itself, in one linear pass, rather than build a tree of a hostile file.
func extractDOCX(ctx context.Context, data []byte, out *textBuf) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("not a .docx (zip) file: %w", err)
	}
	if len(zr.File) > maxDOCXEntries {
		return fmt.Errorf("the zip holds %d entries, more than %d", len(zr.File), maxDOCXEntries)
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
			break
		}
	}
	if doc == nil {
		return errors.New("no word/document.xml: not a Word document")
	}
	rc, err := doc.Open()
	if err != nil {
		return fmt.Errorf("open word/document.xml: %w", err)
	}
	defer rc.Close()
	xml, err := io.ReadAll(io.LimitReader(rc, maxDOCXXML+1))
	if err != nil {
		return fmt.Errorf("read word/document.xml: %w", err)
	}
	if len(xml) > maxDOCXXML {
		return fmt.Errorf("word/document.xml is over %d bytes uncompressed", maxDOCXXML)
	}
	return docxText(ctx, xml, out)
}

// docxText scans document XML for text runs.
func docxText(ctx context.Context, xml []byte, out *textBuf) error {
	inText := false
	for i := 0; i < len(xml); {
		if i&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		lt := bytes.IndexByte(xml[i:], '<')
		if lt < 0 {
			break
		}
		if inText && lt > 0 {
			if err := out.WriteString(toValidUTF8(html.UnescapeString(string(xml[i : i+lt])))); err != nil {
				return err
			}
		}
		start := i + lt + 1
		gt := bytes.IndexByte(xml[start:], '>')
		if gt < 0 {
			break
		}
		tag := string(xml[start : start+gt])
		i = start + gt + 1
		closing := strings.HasPrefix(tag, "/")
		selfClosing := strings.HasSuffix(tag, "/")
		name := strings.TrimSuffix(strings.TrimPrefix(tag, "/"), "/")
		if sp := strings.IndexAny(name, " \t\r\n"); sp >= 0 {
			name = name[:sp]
		}
		var emit string
		switch name {
		case "w:t":
			inText = !closing && !selfClosing
		case "w:tab":
			if !closing {
				emit = "\t"
			}
		case "w:br", "w:cr":
			if !closing {
				emit = "\n"
			}
		case "w:p":
			if closing || selfClosing {
				emit = "\n"
			}
		}
		if emit != "" {
			if err := out.WriteString(emit); err != nil {
				return err
			}
		}
	}
	return nil
}

func toValidUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
