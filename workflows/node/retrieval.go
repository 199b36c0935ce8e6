package node

import "github.com/flowgate/flowgate/internal/flowise/chatflow"

// Document is a LangChain document as Flowise's loaders, splitters and retrievers pass it.
type Document struct {
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
}

// Component is a configured node that others use by its settings: a text splitter or an
// embeddings node. CredentialID is decrypted only inside the activity that calls the provider.
type Component struct {
	Kind         string         `json:"kind"`
	CredentialID string         `json:"credentialId,omitempty"`
	Inputs       map[string]any `json:"inputs,omitempty"`
}

// Retriever describes where a vector store node's vectors are and how to search them; the
// chain or tool that retrieves embeds the query with Embeddings and searches there.
type Retriever struct {
	// Store is the vector store's kind (memoryVectorStore, faiss, postgres, documentStoreVS).
	Store string `json:"store"`
	// IndexKey is the storage key of the index (memoryVectorStore, faiss).
	IndexKey string `json:"indexKey,omitempty"`
	// StoreID is the document store of documentStoreVS.
	StoreID string `json:"storeId,omitempty"`
	// Postgres holds the postgres node's settings and credential id.
	Postgres   *Component `json:"postgres,omitempty"`
	Embeddings *Component `json:"embeddings,omitempty"`
	TopK       int        `json:"topK,omitempty"`
	// Filter keeps documents whose metadata has these values (the node's metadata filter).
	Filter map[string]any `json:"filter,omitempty"`
	// Name and Description are a vectorStoreRetriever's, which a tool offers its model.
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// VectorAdded is Flowise's answer to a vector upsert: how many documents the store added, and
// which.
type VectorAdded struct {
	NumAdded  int        `json:"numAdded"`
	AddedDocs []Document `json:"addedDocs"`
}

// VectorUpsertInput is a chatflow's vector upsert (POST /api/v1/vector/upsert/{id}): the
// vector store node (Plan.Ending) and the nodes wired into it, with the request's files
// already in storage under the run's chat.
type VectorUpsertInput struct {
	Plan chatflow.Plan `json:"plan"`
	Run  Run           `json:"run"`
}
