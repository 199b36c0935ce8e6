// Package loader is Flowise's document loader nodes over files: a node's file input (inline
// data URIs, or FILE-STORAGE:: names of files in storage) read into documents, and the
// metadata and omitMetadataKeys inputs every loader has.
package loader

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/flowgate/flowgate/internal/knowledge/extract"
	"github.com/flowgate/flowgate/internal/knowledge/textsplit"
)

// ErrInvalid marks inputs no load can succeed with: the flow's or the file's fault.
var ErrInvalid = errors.New("invalid document loader input")

// StoragePrefix marks a file input that names files in storage, as Flowise writes it.
const StoragePrefix = "FILE-STORAGE::"

// File is one file a loader reads.
type File struct {
	Name string
	MIME string
	Data []byte
}

// FileInputs are the file inputs of the file loaders, by node name.
var FileInputs = map[string]string{
	"textFile": "txtFile",
	"pdfFile":  "pdfFile",
	"csvFile":  "csvFile",
	"jsonFile": "jsonFile",
	"docxFile": "docxFile",
}

// InputForFile is the file input an uploaded file goes to (Flowise's mapExtToInputField and
// mapMimeTypeToInputField): by extension, then by type, else txtFile.
func InputForFile(name, mime string) string {
	ext := strings.ToLower(name[strings.LastIndex(name, ".")+1:])
	switch {
	case ext == "pdf" || mime == "application/pdf":
		return "pdfFile"
	case ext == "csv" || mime == "text/csv":
		return "csvFile"
	case ext == "json" || mime == "application/json":
		return "jsonFile"
	case ext == "docx" || ext == "doc" || strings.Contains(mime, "wordprocessingml"):
		return "docxFile"
	}
	return "txtFile"
}

// StoredNames reads a FILE-STORAGE:: input: one name or a JSON array of names.
func StoredNames(raw string) ([]string, bool) {
	rest, ok := strings.CutPrefix(raw, StoragePrefix)
	if !ok {
		return nil, false
	}
	if strings.HasPrefix(rest, "[") {
		var names []string
		if json.Unmarshal([]byte(rest), &names) == nil {
			return names, true
		}
	}
	return []string{rest}, true
}

// DataURIs reads Flowise's inline files: one "data:<mime>;base64,<data>,filename:<name>" or a
// JSON array of them.
func DataURIs(raw string) ([]File, error) {
	items := []string{raw}
	if strings.HasPrefix(raw, "[") {
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return nil, fmt.Errorf("%w: the file input is not a JSON array of data URIs: %v", ErrInvalid, err)
		}
	}
	var out []File
	for _, item := range items {
		if item == "" {
			continue
		}
		rest, ok := strings.CutPrefix(item, "data:")
		if !ok {
			return nil, fmt.Errorf("%w: the file input is not a data URI", ErrInvalid)
		}
		mime, rest, _ := strings.Cut(rest, ";base64,")
		data, name, _ := strings.Cut(rest, ",filename:")
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("%w: file %q is not base64: %v", ErrInvalid, name, err)
		}
		out = append(out, File{Name: name, MIME: mime, Data: b})
	}
	return out, nil
}

// Documents reads one file as a loader node does: textFile as text (LangChain's TextLoader
// over a blob), the others through extract's bounded parsers, one document per file (Flowise's
// pdfFile "perFile" usage; csvFile and jsonFile as one text, not a document per row or value).
func Documents(ctx context.Context, kind string, f File) ([]textsplit.Document, error) {
	md := map[string]any{"source": "blob", "blobType": f.MIME}
	if kind == "textFile" {
		return []textsplit.Document{{PageContent: string(f.Data), Metadata: md}}, nil
	}
	mime := f.MIME
	switch kind { // the node decides the format, whatever the file's declared type
	case "pdfFile":
		mime = "application/pdf"
	case "csvFile":
		mime = "text/csv"
	case "jsonFile":
		mime = "application/json"
	case "docxFile":
		mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	}
	text, err := extract.Text(ctx, f.Name, mime, bytes.NewReader(f.Data), int64(len(f.Data)))
	switch {
	case err == nil:
	case errors.Is(err, extract.ErrUnsupported), errors.Is(err, extract.ErrUnreadable), errors.Is(err, extract.ErrTooLarge):
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, kind, err)
	default:
		return nil, err
	}
	if kind == "pdfFile" {
		md = map[string]any{"source": f.Name}
	}
	return []textsplit.Document{{PageContent: text, Metadata: md}}, nil
}

// ApplyMetadata is the loaders' metadata and omitMetadataKeys inputs: metadata merged over
// each document's, then the named keys dropped ("*" keeps only the given metadata).
func ApplyMetadata(docs []textsplit.Document, metadata any, omit string) ([]textsplit.Document, error) {
	var extra map[string]any
	switch v := metadata.(type) {
	case map[string]any:
		extra = v
	case string:
		if strings.TrimSpace(v) != "" {
			if err := json.Unmarshal([]byte(v), &extra); err != nil {
				return nil, fmt.Errorf("%w: Invalid metadata: %v", ErrInvalid, err)
			}
		}
	}
	for i := range docs {
		md := map[string]any{}
		if omit != "*" {
			for k, v := range docs[i].Metadata {
				md[k] = v
			}
		}
		for k, v := range extra {
			md[k] = v
		}
		if omit != "*" && omit != "" {
			for _, k := range strings.Split(omit, ",") {
				delete(md, strings.TrimSpace(k))
			}
		}
		docs[i].Metadata = md
	}
	return docs, nil
}
