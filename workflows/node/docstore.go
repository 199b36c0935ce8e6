package node

// The contract between the document-store workflows and their activities: the API hands the
// request over as it came, the worker does everything else.

// UpsertInput is a document-store upsert as Flowise's POST
// /api/v1/document-store/upsert/{storeId} receives it. Large files travel through storage,
// not history: the payload codec moves them.
type UpsertInput struct {
	StoreID string `json:"storeId"`
	// Fields are the request's fields: a JSON body, or a multipart form's values as strings.
	Fields map[string]any `json:"fields,omitempty"`
	Files  []File         `json:"files,omitempty"`
}

// File is an uploaded document.
type File struct {
	Name string `json:"name"`
	MIME string `json:"mime,omitempty"`
	Data []byte `json:"data"`
}

// UpsertResult is Flowise's answer to an upsert.
type UpsertResult struct {
	NumAdded   int    `json:"numAdded"`
	NumDeleted int    `json:"numDeleted"`
	NumUpdated int    `json:"numUpdated"`
	NumSkipped int    `json:"numSkipped"`
	DocID      string `json:"docId"`
}

// QueryInput is a search of a document store (POST /api/v1/document-store/vectorstore/query).
type QueryInput struct {
	StoreID string `json:"storeId"`
	Query   string `json:"query"`
}

// QueryResult is what a search found, best first.
type QueryResult struct {
	Docs []FoundDocument `json:"docs"`
}

// FoundDocument is one chunk a search found.
type FoundDocument struct {
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
	ID          string         `json:"id"`
	ChunkNo     int            `json:"chunkNo"`
}
