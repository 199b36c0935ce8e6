package extract

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func extractString(t *testing.T, name, mimeType, content string) (string, error) {
	t.Helper()
	return Text(context.Background(), name, mimeType, strings.NewReader(content), int64(len(content)))
}

func TestPlainAndMarkdownAsIs(t *testing.T) {
	md := "# Title\n\nSome *markdown* with `code`.\n"
	got, err := extractString(t, "notes.md", "", md)
	require.NoError(t, err)
	require.Equal(t, md, got)

	got, err = extractString(t, "notes.txt", "text/plain; charset=utf-8", "héllo\r\nworld")
	require.NoError(t, err)
	require.Equal(t, "héllo\r\nworld", got)
}

func TestTextEncodings(t *testing.T) {
	cases := []struct {
		name, declared string
		data           []byte
		want           string
	}{
		{"utf8 bom", "", []byte("\xEF\xBB\xBFhi"), "hi"},
		{"utf16le bom", "", []byte{0xFF, 0xFE, 'h', 0, 'i', 0}, "hi"},
		{"utf16be bom", "", []byte{0xFE, 0xFF, 0, 'h', 0, 'i'}, "hi"},
		{"declared latin1", "text/plain; charset=iso-8859-1", []byte("caf\xe9"), "café"},
		{"undeclared cp1252", "", []byte("caf\xe9 \x80"), "café €"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Text(context.Background(), "a.txt", c.declared, bytes.NewReader(c.data), -1)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestCSVRowsAsColumnValueLines(t *testing.T) {
	in := "\xEF\xBB\xBFname, city ,quote\n" +
		"Alice,\"Paris, France\",\"She said \"\"hi\"\"\"\n" +
		"\n" +
		"Bob,Berlin\n" +
		"Eve,Rome,x,extra\n"
	got, err := extractString(t, "people.csv", "", in)
	require.NoError(t, err)
	require.Equal(t, "name: Alice\ncity: Paris, France\nquote: She said \"hi\"\n\n"+
		"name: Bob\ncity: Berlin\n\n"+
		"name: Eve\ncity: Rome\nquote: x\ncolumn 4: extra", got)
}

func TestCSVHeaderOnlyAndTSV(t *testing.T) {
	got, err := extractString(t, "h.csv", "text/csv", "a,b,c\n")
	require.NoError(t, err)
	require.Equal(t, "a, b, c", got)

	got, err = extractString(t, "t.tsv", "", "k\tv\nx\ty, z\n")
	require.NoError(t, err)
	require.Equal(t, "k: x\nv: y, z", got)
}

func TestJSONPrettyPrinted(t *testing.T) {
	got, err := extractString(t, "d.json", "application/json", `{"b":1.50,"a":[true,null,"x"]}`)
	require.NoError(t, err)
	require.Equal(t, "{\n  \"b\": 1.50,\n  \"a\": [\n    true,\n    null,\n    \"x\"\n  ]\n}", got)
}

func TestJSONInvalid(t *testing.T) {
	_, err := extractString(t, "d.json", "", `{"a": 1,}`)
	require.Error(t, err)
	require.Contains(t, err.Error(), "invalid JSON at byte 9")
	require.False(t, errors.Is(err, ErrUnsupported))
}

func TestHTMLVisibleTextOnly(t *testing.T) {
	in := `<!DOCTYPE html><html><head><title>Hidden title</title>
<style>body { color: red }</style><script>var x = "<p>not text</p>";</script></head>
<body>
  <h1>Caf&eacute; &amp; Bar</h1>
  <p>First   paragraph
     with <b>bold</b>text&nbsp;and a<br>line break.</p>
  <noscript>enable js</noscript>
  <ul><li>one</li><li>two &lt;3</li></ul>
  <table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>30</td></tr></table>
  <pre>  keep
    spacing</pre>
  <template><p>inert</p></template>
  <p>&#169; 2024 &quot;quoted&quot;</p>
</body></html>`
	got, err := extractString(t, "page.html", "text/html", in)
	require.NoError(t, err)
	require.Equal(t, "Café & Bar\n\n"+
		"First paragraph with boldtext and a\nline break.\n\n"+
		"one\ntwo <3\n\n"+
		"Name | Age\nAnn | 30\n\n"+
		"  keep\n    spacing\n\n"+
		"© 2024 \"quoted\"", got)
}

func TestHTMLMetaCharset(t *testing.T) {
	in := "<html><head><meta charset=\"iso-8859-1\"></head><body>na\xefve</body></html>"
	got, err := extractString(t, "p.htm", "", in)
	require.NoError(t, err)
	require.Equal(t, "naïve", got)
}

func TestXMLCharacterData(t *testing.T) {
	in := "<?xml version=\"1.0\"?>\n<root><item a=\"1\">First &amp; one</item>\n  <!-- c --><item>Second</item></root>"
	got, err := extractString(t, "feed.xml", "", in)
	require.NoError(t, err)
	require.Equal(t, "First & one\nSecond", got)
}

func TestUnsupportedBinary(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
	for _, c := range []struct{ name, declared string }{
		{"image.png", "image/png"},
		{"image.png", ""},
		{"notes.txt", "text/plain"}, // lies about the content
		{"blob", "application/octet-stream"},
	} {
		_, err := extractString(t, c.name, c.declared, png)
		require.ErrorIs(t, err, ErrUnsupported, c)
		require.Contains(t, err.Error(), "image/png")
	}

	_, err := extractString(t, "a.zip", "", "PK\x03\x04rest")
	require.ErrorIs(t, err, ErrUnsupported)
	require.Contains(t, err.Error(), "application/zip")

	_, err = extractString(t, "data.bin", "", "\x00\x01\x02\x03")
	require.ErrorIs(t, err, ErrUnsupported)
	require.Contains(t, err.Error(), "application/octet-stream")
}

func TestEmptyFile(t *testing.T) {
	for _, c := range []struct{ name, declared string }{
		{"empty.txt", ""}, {"empty.pdf", "application/pdf"}, {"empty.json", ""}, {"blob", ""},
	} {
		got, err := extractString(t, c.name, c.declared, "")
		require.NoError(t, err, c)
		require.Empty(t, got, c)
	}
	_, err := extractString(t, "empty.png", "", "")
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestLimits(t *testing.T) {
	ctx := context.Background()
	e := Extractor{MaxInputBytes: 10, MaxTextBytes: 8}

	_, err := e.Text(ctx, "big.txt", "", strings.NewReader("x"), 11)
	require.ErrorIs(t, err, ErrTooLarge)

	// The declared size lies; the reader is still cut off.
	_, err = e.Text(ctx, "big.txt", "", strings.NewReader(strings.Repeat("x", 50)), 5)
	require.ErrorIs(t, err, ErrTooLarge)

	got, err := e.Text(ctx, "a.txt", "", strings.NewReader("aaaaaaaé"), -1)
	require.NoError(t, err)
	require.Equal(t, "aaaaaaa\n\n[truncated: extracted text exceeds 8 bytes]", got, "cut at a rune boundary")

	_, err = Text(ctx, "a.txt", "", iotest.ErrReader(errors.New("boom")), -1)
	require.ErrorContains(t, err, "boom")
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Text(ctx, "a.csv", "", strings.NewReader("a\n1\n"), 4)
	require.ErrorIs(t, err, context.Canceled)
}

func TestCSVCancelledMidway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	data := []byte("a\n" + strings.Repeat("1\n", 2*ctxCheckEvery))
	out := newTextBuf(DefaultMaxTextBytes)
	cancel()
	err := extractCSV(ctx, data, "", ',', out)
	require.ErrorIs(t, err, context.Canceled)
}
