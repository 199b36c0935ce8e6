package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// docxOf builds a minimal .docx whose word/document.xml is body.
func docxOf(t testing.TB, body string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("word/document.xml")
	require.NoError(t, err)
	_, err = w.Write([]byte(body))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

const docxSample = `<?xml version="1.0"?><w:document xmlns:w="x"><w:body>` +
	`<w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:t xml:space="preserve"> world &amp; co</w:t></w:r></w:p>` +
	`<w:p><w:r><w:t>a</w:t><w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t></w:r></w:p><w:tbl/></w:body></w:document>`

func TestDOCXText(t *testing.T) {
	text, err := Text(context.Background(), "memo.docx", "", bytes.NewReader(docxOf(t, docxSample)), -1)
	require.NoError(t, err)
	require.Equal(t, "Hello world & co\na\tb\nc\n", text)

	_, err = Text(context.Background(), "memo.docx", mimeDOCX, bytes.NewReader([]byte("PK\x03\x04 not a zip")), -1)
	require.ErrorIs(t, err, ErrUnreadable)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	_, _ = zw.Create("other.xml")
	require.NoError(t, zw.Close())
	_, err = Text(context.Background(), "memo.docx", mimeDOCX, &buf, -1)
	require.ErrorIs(t, err, ErrUnreadable)
}

func FuzzDOCX(f *testing.F) {
	f.Add(docxOf(f, docxSample))
	f.Add(docxOf(f, "<w:t>unclosed"))
	f.Add(docxOf(f, "<w:t>&#xD800;&bogus;</w:t><<<>"))
	f.Add([]byte("PK\x05\x06"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzInProcess(t, kindDOCX, data)
		// The XML scanner on its own, for inputs the zip reader would refuse.
		within(t, fuzzBound, func() fuzzResult {
			out := newTextBuf(fuzzTextCap)
			_ = docxText(context.Background(), data, out)
			requireCapped(t, out.String())
			return fuzzResult{}
		})
	})
}
