package openapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrStoredFile is returned by DecodeFileInput when the value refers to a
// file in Flowise's file storage ("FILE-STORAGE::spec.yaml") rather than
// carrying the bytes; the caller has to load that file itself.
var ErrStoredFile = errors.New("openapitool: file input refers to stored file")

const storedFilePrefix = "FILE-STORAGE::"

// DecodeFileInput decodes the value of a Flowise "file" input. The UI stores
// an uploaded file as its data URI with the file name appended,
//
//	data:application/x-yaml;base64,b3BlbmFwaTog...,filename:spec.yaml
//
// (packages/ui/src/ui-component/file/File.jsx). Like Flowise, the media type
// is ignored: the base64 payload is the segment before the ",filename:" one.
//
// A "FILE-STORAGE::name" value (a file kept in storage instead of inline)
// yields the name and an error wrapping ErrStoredFile. A JSON array, which the
// UI stores when several files are picked, is accepted when it holds one file.
func DecodeFileInput(v string) (data []byte, name string, err error) {
	v = strings.TrimSpace(v)
	if rest, ok := strings.CutPrefix(v, storedFilePrefix); ok {
		return nil, rest, fmt.Errorf("%w %q", ErrStoredFile, rest)
	}
	if strings.HasPrefix(v, "[") {
		var many []string
		if err := json.Unmarshal([]byte(v), &many); err != nil {
			return nil, "", fmt.Errorf("openapitool: file input: %w", err)
		}
		if len(many) != 1 {
			return nil, "", fmt.Errorf("openapitool: file input holds %d files, want one OpenAPI spec", len(many))
		}
		v = many[0]
	}
	if !strings.HasPrefix(v, "data:") {
		return nil, "", errors.New("openapitool: file input is not a data URI")
	}
	// Split at the last ",filename:" rather than at every comma: Flowise's
	// split(',') breaks on file names containing commas.
	uri, name, ok := cutLast(v, ",filename:")
	if !ok {
		return nil, "", errors.New("openapitool: file input lacks its ,filename: suffix")
	}
	header, payload, ok := strings.Cut(uri, ",")
	if !ok || !strings.HasSuffix(header, ";base64") {
		return nil, "", errors.New("openapitool: file input is not a base64 data URI")
	}
	if base64.StdEncoding.DecodedLen(len(payload)) > MaxSpecSize {
		return nil, "", fmt.Errorf("openapitool: file input is larger than %d bytes", MaxSpecSize)
	}
	data, err = base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, "", fmt.Errorf("openapitool: file input: %w", err)
	}
	return data, name, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// ParseHeaders reads the node's "headers" input, which Flowise takes either
// as an object or as a JSON string of one (empty means none). Non-string
// values are turned into text, since HTTP headers are text.
func ParseHeaders(v any) (map[string]string, error) {
	var obj map[string]any
	switch t := v.(type) {
	case nil:
		return map[string]string{}, nil
	case string:
		if strings.TrimSpace(t) == "" {
			return map[string]string{}, nil
		}
		if err := json.Unmarshal([]byte(t), &obj); err != nil {
			return nil, fmt.Errorf("openapitool: headers must be a JSON object: %w", err)
		}
	case map[string]string:
		return t, nil
	case map[string]any:
		obj = t
	default:
		return nil, fmt.Errorf("openapitool: headers must be a JSON object, got %T", v)
	}
	out := make(map[string]string, len(obj))
	for k, val := range obj {
		if val != nil {
			out[k] = jsString(val)
		}
	}
	return out, nil
}
