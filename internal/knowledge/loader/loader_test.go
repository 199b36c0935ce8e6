package loader

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/knowledge/textsplit"
)

func TestDataURIsAndStoredNames(t *testing.T) {
	one := "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte("hello")) + ",filename:a.txt"
	files, err := DataURIs(`["` + one + `"]`)
	require.NoError(t, err)
	require.Equal(t, []File{{Name: "a.txt", MIME: "text/plain", Data: []byte("hello")}}, files)
	_, err = DataURIs("hello")
	require.ErrorIs(t, err, ErrInvalid)

	names, ok := StoredNames(`FILE-STORAGE::["a.txt","b.pdf"]`)
	require.True(t, ok)
	require.Equal(t, []string{"a.txt", "b.pdf"}, names)
	_, ok = StoredNames(one)
	require.False(t, ok)
	require.Equal(t, "pdfFile", InputForFile("x.PDF", ""))
	require.Equal(t, "docxFile", InputForFile("x.docx", ""))
	require.Equal(t, "txtFile", InputForFile("notes.md", "text/markdown"))
}

func TestDocumentsOfEachLoader(t *testing.T) {
	ctx := context.Background()
	docs, err := Documents(ctx, "textFile", File{Name: "a.txt", MIME: "text/plain", Data: []byte("plain")})
	require.NoError(t, err)
	require.Equal(t, []textsplit.Document{{PageContent: "plain", Metadata: map[string]any{"source": "blob", "blobType": "text/plain"}}}, docs)

	docs, err = Documents(ctx, "jsonFile", File{Name: "a.json", Data: []byte(`{"answer":"forty two"}`)})
	require.NoError(t, err)
	require.Contains(t, docs[0].PageContent, "forty two")

	docs, err = Documents(ctx, "csvFile", File{Name: "a.csv", Data: []byte("name,age\nann,7\n")})
	require.NoError(t, err)
	require.Contains(t, docs[0].PageContent, "ann")

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	_, _ = w.Write([]byte(`<w:p><w:t>From Word</w:t></w:p>`))
	require.NoError(t, zw.Close())
	docs, err = Documents(ctx, "docxFile", File{Name: "a.docx", Data: buf.Bytes()})
	require.NoError(t, err)
	require.Equal(t, "From Word\n", docs[0].PageContent)

	_, err = Documents(ctx, "docxFile", File{Name: "a.docx", Data: []byte("not a zip")})
	require.ErrorIs(t, err, ErrInvalid)
}

func TestApplyMetadata(t *testing.T) {
	docs := func() []textsplit.Document {
		return []textsplit.Document{{PageContent: "x", Metadata: map[string]any{"source": "blob", "blobType": ""}}}
	}
	got, err := ApplyMetadata(docs(), `{"team":"red"}`, "blobType")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"source": "blob", "team": "red"}, got[0].Metadata)
	got, err = ApplyMetadata(docs(), map[string]any{"team": "red"}, "*")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"team": "red"}, got[0].Metadata)
	_, err = ApplyMetadata(docs(), "{", "")
	require.ErrorIs(t, err, ErrInvalid)
}
