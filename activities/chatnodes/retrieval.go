package chatnodes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/knowledge/extract"
	"github.com/flowgate/flowgate/internal/knowledge/loader"
	"github.com/flowgate/flowgate/internal/knowledge/textsplit"
	"github.com/flowgate/flowgate/internal/knowledge/vectorindex"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/workflows/node"
)

// What the retrieval kinds share: loaders read files and hand on documents, splitters and
// embeddings hand on their settings, vector stores index documents (at upsert, or for the
// in-memory store at prediction) and hand on a retriever, which chains search.

// documentsOf gathers the documents of the loaders wired into input, in wiring order.
func documentsOf(req node.Request, input string) []node.Document {
	var docs []node.Document
	for _, id := range chatflow.InstanceRefs(req.Node.Data.Inputs[input]) {
		for _, d := range req.Upstream[id].Documents {
			if d.PageContent != "" {
				docs = append(docs, d)
			}
		}
	}
	return docs
}

// component is a configuring node's settings for the node it is wired into.
func component(req node.Request) *node.Component {
	return &node.Component{Kind: req.Node.Data.Name, CredentialID: credentialID(req.Node), Inputs: req.Node.Data.Inputs}
}

// splitter hands on a text splitter's settings, checked.
func splitter(req node.Request) (node.Value, error) {
	c := component(req)
	if _, err := textsplit.FromNode(c.Kind, c.Inputs); err != nil {
		return node.Value{}, nodekit.FlowError("%s: %v", req.Node.ID, err)
	}
	return node.Value{Kind: c.Kind, Splitter: c}, nil
}

// embeddings hands on an embeddings node's settings; its credential is decrypted by the node
// that embeds.
func embeddings(req node.Request) (node.Value, error) {
	return node.Value{Kind: req.Node.Data.Name, Embeddings: component(req)}, nil
}

// loaded finishes every loader: the wired text splitter, the metadata inputs, and the output
// (documents, or their text joined by newlines for output "text").
func loaded(req node.Request, docs []textsplit.Document) (node.Value, error) {
	nd := req.Node
	if v, id, ok := upstream(req, "textSplitter"); ok {
		if v.Splitter == nil {
			return node.Value{}, nodekit.FlowError("%s: input textSplitter must be connected to a text splitter (got %q)", nd.ID, id)
		}
		sp, err := textsplit.FromNode(v.Splitter.Kind, v.Splitter.Inputs)
		if err != nil {
			return node.Value{}, nodekit.FlowError("%s: %v", nd.ID, err)
		}
		var split []textsplit.Document
		for _, d := range docs {
			split = append(split, sp.CreateDocuments([]string{d.PageContent}, []map[string]any{d.Metadata})...)
		}
		docs = split
	}
	docs, err := loader.ApplyMetadata(docs, nd.Data.Inputs["metadata"], nd.Input("omitMetadataKeys"))
	if err != nil {
		return node.Value{}, nodekit.FlowError("%s: %v", nd.ID, err)
	}
	if nd.Data.Outputs["output"] == "text" {
		var b strings.Builder
		for _, d := range docs {
			b.WriteString(d.PageContent)
			b.WriteString("\n")
		}
		return node.TextValue(nd.Data.Name, b.String()), nil
	}
	out := make([]node.Document, len(docs))
	for i, d := range docs {
		out[i] = node.Document{PageContent: d.PageContent, Metadata: d.Metadata}
	}
	return node.Value{Kind: nd.Data.Name, Documents: out}, nil
}

// fileLoader is every file loader: the files of its file input (inline data URIs, or
// FILE-STORAGE:: names of files the API stored under this run's chat) or, when it has none,
// the turn's uploads of its type, read as kind reads them.
func (n *Nodes) fileLoader(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	input := loader.FileInputs[nd.Data.Name]
	raw := nd.Input(input)
	names, stored := loader.StoredNames(raw)
	if raw == "" {
		// No file in the node: the turn's uploads its file input takes (a prediction's files).
		for _, u := range req.Run.Uploads {
			if u.Type == node.UploadStored && loader.InputForFile(u.Name, u.Mime) == input {
				names, stored = append(names, u.Name), true
			}
		}
	}
	var files []loader.File
	if stored {
		for _, name := range names {
			f, err := n.storedFile(ctx, req.Run, name)
			if err != nil {
				return node.Value{}, err
			}
			files = append(files, f)
		}
	} else {
		var err error
		if files, err = loader.DataURIs(raw); err != nil {
			return node.Value{}, nodekit.FlowError("%s: %v", nd.ID, err)
		}
	}
	var docs []textsplit.Document
	for _, f := range files {
		d, err := loader.Documents(ctx, nd.Data.Name, f)
		if errors.Is(err, loader.ErrInvalid) {
			return node.Value{}, nodekit.InvalidError("%s: %v", nd.ID, err)
		}
		if err != nil {
			return node.Value{}, fmt.Errorf("%s: %w", nd.ID, err)
		}
		docs = append(docs, d...)
	}
	return loaded(req, docs)
}

// storedFile reads a file the API stored for this run (an upsert's or a turn's upload).
func (n *Nodes) storedFile(ctx context.Context, run node.Run, name string) (loader.File, error) {
	key, err := storage.Key(run.ChatflowID, run.ChatID, name)
	if err != nil {
		return loader.File{}, nodekit.FlowError("file %q: %v", name, err)
	}
	r, obj, err := n.Files.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return loader.File{}, nodekit.FlowError("file %q is not in storage; send it with the upsert request", name)
	}
	if err != nil {
		return loader.File{}, fmt.Errorf("read file %q: %w", name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, extract.DefaultMaxInputBytes+1))
	if err != nil {
		return loader.File{}, fmt.Errorf("read file %q: %w", name, err)
	}
	if len(data) > int(extract.DefaultMaxInputBytes) {
		return loader.File{}, nodekit.InvalidError("file %q is over %d bytes", name, extract.DefaultMaxInputBytes)
	}
	return loader.File{Name: name, MIME: obj.ContentType, Data: data}, nil
}

// vectorStore is every vector store node that keeps an index in storage (memoryVectorStore,
// faiss): at upsert it embeds the documents wired into it and writes the index; at prediction
// it hands on a retriever over the index. key is where the index lives; for the in-memory
// store, built at prediction from its documents, keyed by their content.
func (n *Nodes) vectorStore(ctx context.Context, req node.Request, key func(emb *node.Component, docs []node.Document) (string, error), buildAtPrediction bool) (node.Value, error) {
	nd := req.Node
	v, id, ok := upstream(req, "embeddings")
	if !ok || v.Embeddings == nil {
		return node.Value{}, nodekit.FlowError("%s: input embeddings must be connected to an embeddings node (got %q)", nd.ID, id)
	}
	emb := v.Embeddings
	filter, err := metadataFilter(nd)
	if err != nil {
		return node.Value{}, err
	}
	var docs []node.Document
	if req.Upsert || buildAtPrediction {
		docs = documentsOf(req, "document")
	}
	k, err := key(emb, docs)
	if err != nil {
		return node.Value{}, nodekit.FlowError("%s: %v", nd.ID, err)
	}
	out := node.Value{Kind: nd.Data.Name, Retriever: &node.Retriever{Store: nd.Data.Name, IndexKey: k, Embeddings: emb,
		TopK: topK(nd), Filter: filter}}
	if !req.Upsert && buildAtPrediction {
		if r, _, err := n.Files.Get(ctx, k); err == nil {
			r.Close()
			return out, nil // these documents are indexed already
		}
	}
	if !req.Upsert && !buildAtPrediction {
		return out, nil
	}
	if err := n.index(ctx, emb, docs, k); err != nil {
		return node.Value{}, fmt.Errorf("%s: %w", nd.ID, err)
	}
	if req.Upsert {
		out.Upserted = &node.VectorAdded{NumAdded: len(docs), AddedDocs: docs}
	}
	return out, nil
}

// embedDocuments embeds the documents' texts with emb's provider, NUL bytes removed (a
// PostgreSQL text column refuses them, and what is embedded is what is stored), and returns
// the texts and their vectors.
func (n *Nodes) embedDocuments(ctx context.Context, emb *node.Component, docs []node.Document) ([]string, [][]float32, error) {
	client, err := n.Embedder(ctx, emb)
	if err != nil {
		return nil, nil, err
	}
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = strings.ReplaceAll(d.PageContent, "\x00", "")
	}
	if len(texts) == 0 {
		return texts, nil, nil
	}
	vecs, err := client.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, nil, nodekit.KnowledgeError(fmt.Errorf("embed documents: %w", err))
	}
	return texts, vecs, nil
}

// index embeds docs and writes their index under key.
func (n *Nodes) index(ctx context.Context, emb *node.Component, docs []node.Document, key string) error {
	texts, vecs, err := n.embedDocuments(ctx, emb, docs)
	if err != nil {
		return err
	}
	ix := &vectorindex.Index{Embedding: nodekit.EmbeddingName(emb), Entries: make([]vectorindex.Entry, len(docs))}
	for i, d := range docs {
		md := d.Metadata
		if md == nil {
			md = map[string]any{}
		}
		ix.Entries[i] = vectorindex.Entry{PageContent: texts[i], Metadata: md, Vector: vecs[i]}
	}
	if err := vectorindex.Save(ctx, n.Files, key, ix); err != nil {
		return fmt.Errorf("write the vector index: %w", err)
	}
	return nil
}

// topK is a vector store's topK input (Flowise's default 4).
func topK(nd chatflow.Node) int {
	var k int
	if _, err := fmt.Sscan(nd.Input("topK"), &k); err != nil || k <= 0 {
		return 4
	}
	return k
}

// metadataFilter is a vector store's metadata filter: Flowgate's metadataFilter input, or the
// <store>MetadataFilter input Flowise's nodes name (pgMetadataFilter, pineconeMetadataFilter,
// …), a JSON object of metadata values to match.
func metadataFilter(nd chatflow.Node) (map[string]any, error) {
	// In name order, so a node with two such inputs always uses the same one.
	for _, name := range slices.Sorted(maps.Keys(nd.Data.Inputs)) {
		if name != "metadataFilter" && !strings.HasSuffix(name, "MetadataFilter") {
			continue
		}
		f, err := nodekit.ObjectInput(nd.Data.Inputs[name])
		if err != nil {
			return nil, nodekit.FlowError("%s: %s is %v", nd.ID, name, err)
		}
		if f != nil {
			return f, nil
		}
	}
	return nil, nil
}

// retrieverOf is the retriever wired into input: a vector store's, or a vectorStoreRetriever's.
func retrieverOf(req node.Request, input string) (*node.Retriever, error) {
	v, id, ok := upstream(req, input)
	if !ok || v.Retriever == nil {
		return nil, nodekit.FlowError("%s: input %q must be connected to a vector store retriever (got %q)", req.Node.ID, input, id)
	}
	return v.Retriever, nil
}
