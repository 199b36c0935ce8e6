package docstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ParseUpsert reads Flowise's upsert fields (a JSON body, or a multipart form's values as
// strings), each component an object or its JSON text. Its errors are ErrInvalid, with Flowise's
// messages.
func ParseUpsert(f map[string]any) (UpsertRequest, error) {
	req, err := parseUpsert(f)
	if err != nil {
		return req, invalidRequest{err}
	}
	return req, nil
}

// invalidRequest is a request error that reads as its cause and matches ErrInvalid.
type invalidRequest struct{ error }

func (e invalidRequest) Is(target error) bool { return target == ErrInvalid }
func (e invalidRequest) Unwrap() error        { return e.error }

func parseUpsert(f map[string]any) (UpsertRequest, error) {
	var req UpsertRequest
	component := func(name string) (*Component, error) {
		var c Component
		switch v := f[name].(type) {
		case nil:
			return nil, nil
		case string:
			if strings.TrimSpace(v) == "" {
				return nil, nil
			}
			if err := json.Unmarshal([]byte(v), &c); err != nil {
				return nil, fmt.Errorf("%s must be {name, config} JSON: %v", name, err)
			}
		default:
			b, _ := json.Marshal(v)
			if err := json.Unmarshal(b, &c); err != nil {
				return nil, fmt.Errorf("%s must be {name, config}: %v", name, err)
			}
		}
		if c.Config == nil {
			c.Config = map[string]any{}
		}
		return &c, nil
	}
	var err error
	for name, dst := range map[string]**Component{
		"loader": &req.Loader, "splitter": &req.Splitter, "embedding": &req.Embedding,
		"vectorStore": &req.VectorStore, "recordManager": &req.RecordManager,
	} {
		if *dst, err = component(name); err != nil {
			return req, err
		}
	}
	req.DocID, _ = f["docId"].(string)
	req.LoaderName, _ = f["loaderName"].(string)
	switch v := f["replaceExisting"].(type) {
	case bool:
		req.ReplaceExisting = v
	case string:
		req.ReplaceExisting = strings.EqualFold(v, "true")
	}
	switch v := f["metadata"].(type) {
	case map[string]any:
		req.Metadata = v
	case string:
		if strings.TrimSpace(v) != "" {
			if err := json.Unmarshal([]byte(v), &req.Metadata); err != nil {
				return req, fmt.Errorf("Error: Invalid metadata")
			}
		}
	}
	if b, ok := f["createNewDocStore"]; ok && (b == true || b == "true") {
		return req, errors.New("createNewDocStore is not supported; create the store first with POST /api/v1/document-store/store")
	}
	return req, nil
}
