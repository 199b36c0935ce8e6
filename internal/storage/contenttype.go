package storage

import (
	"mime"
	"path"
)

const defaultContentType = "application/octet-stream"

// contentTypeFor guesses a content type from the key's extension, for objects stored without
// one (and for files Flowise wrote before us, which have no metadata).
func contentTypeFor(key string) string {
	if ct := mime.TypeByExtension(path.Ext(key)); ct != "" {
		return ct
	}
	return defaultContentType
}
