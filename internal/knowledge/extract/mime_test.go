package extract

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMimeType(t *testing.T) {
	pdfHead := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj")
	pngHead := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	cases := []struct {
		desc, name, declared string
		head                 []byte
		want                 string
	}{
		{"declared wins", "x.bin", "text/csv", []byte("a,b"), "text/csv"},
		{"declared params and case", "x", "Text/HTML; charset=UTF-8", []byte("<p>"), "text/html"},
		{"alias", "x", "text/x-markdown", []byte("# a"), "text/markdown"},
		{"generic declared uses extension", "r.json", "application/octet-stream", []byte("{}"), "application/json"},
		{"empty declared uses extension", "R.MD", "", []byte("# a"), "text/markdown"},
		{"text/plain is weak against extension", "d.csv", "text/plain", []byte("a,b"), "text/csv"},
		{"windows excel csv type", "d.csv", "application/vnd.ms-excel", []byte("a,b"), "text/csv"},
		{"specific declared beats extension", "page.txt", "text/html", []byte("<p>hi"), "text/html"},
		{"unsupported declared, text extension", "notes.txt", "image/png", []byte("hello"), "text/plain"},
		{"sniff html", "noext", "", []byte("<!DOCTYPE html><p>x"), "text/html"},
		{"sniff xml", "noext", "", []byte("<?xml version='1.0'?><a/>"), "application/xml"},
		{"sniff text", "noext", "", []byte("just words"), "text/plain"},
		{"sniff pdf", "noext", "", pdfHead, "application/pdf"},
		{"pdf content under text name", "doc.txt", "text/plain", pdfHead, "application/pdf"},
		{"pdf content under image type", "doc", "image/png", pdfHead, "application/pdf"},
		{"png content under text name", "a.txt", "", pngHead, "image/png"},
		{"png content under pdf name", "a.pdf", "application/pdf", pngHead, "image/png"},
		{"text content under pdf name stays pdf", "a.pdf", "", []byte("hello"), "application/pdf"},
		{"png extension", "a.png", "", pngHead, "image/png"},
		{"source code", "main.go", "", []byte("package main"), "text/plain"},
		{"windows path", `C:\docs\a.JSON`, "", []byte("[]"), "application/json"},
		{"empty anonymous", "", "", nil, "text/plain"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			require.Equal(t, c.want, MimeType(c.name, c.declared, c.head))
		})
	}
}
