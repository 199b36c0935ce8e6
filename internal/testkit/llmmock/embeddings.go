package llmmock

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
	"unicode"
)

// EmbeddingDimensions is the length of the mock's vectors unless a request asks for another.
const EmbeddingDimensions = 64

// Embedding is the mock's vector for text: a hashed bag of lower-cased words, normalised, so
// texts that share words are close in cosine similarity and texts that share none are
// (hash collisions aside) orthogonal. A text without words gets the zero vector.
func Embedding(text string, dims int) []float32 {
	if dims <= 0 {
		dims = EmbeddingDimensions
	}
	v := make([]float64, dims)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(w))
		v[h.Sum32()%uint32(dims)]++
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, dims)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// embeddingInput is OpenAI's and Ollama's "input": one string or an array of them.
type embeddingInput []string

func (in *embeddingInput) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*in = []string{s}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New("input must be a string or an array of strings")
	}
	*in = list
	return nil
}

type embeddingRequest struct {
	Model      string         `json:"model"`
	Input      embeddingInput `json:"input"`
	Dimensions int            `json:"dimensions"`
}

// embeddings serves OpenAI's POST /v1/embeddings, or Ollama's POST /api/embed when ollama is
// set. Requests are recorded and FailNext applies, as for completions.
func (s *Server) embeddings(ollama bool) http.Handler {
	writeError := openAIDialect{}.writeError
	if ollama {
		writeError = ollamaDialect{}.writeError
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body embeddingRequest
		if err := decodeBody(r, &body); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if len(body.Input) == 0 {
			writeError(w, http.StatusBadRequest, "input must not be empty")
			return
		}
		req := Request{Path: r.URL.Path, Query: r.URL.Query(), Headers: r.Header.Clone(), Model: body.Model, Input: body.Input}
		if status := s.admit(req); status != 0 {
			writeError(w, status, fmt.Sprintf("mock failure (status %d)", status))
			return
		}
		s.enter()
		defer s.leave()
		if !s.wait(r.Context()) {
			return
		}
		tokens := 0
		vecs := make([][]float32, len(body.Input))
		for i, text := range body.Input {
			vecs[i] = Embedding(text, body.Dimensions)
			tokens += CountTokens(text)
		}
		if ollama {
			writeJSON(w, http.StatusOK, map[string]any{"model": body.Model, "embeddings": vecs, "prompt_eval_count": tokens})
			return
		}
		data := make([]map[string]any, len(vecs))
		for i, v := range vecs {
			data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"object": "list", "data": data, "model": body.Model,
			"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens},
		})
	})
}

// geminiEmbeddings serves Gemini's POST /v1beta/models/{model}:batchEmbedContents.
func (s *Server) geminiEmbeddings() http.Handler {
	writeError := geminiDialect{}.writeError
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Requests []struct {
				Model   string `json:"model"`
				Content struct {
					Parts []struct {
						Text string `json:"text"`
					} `json:"parts"`
				} `json:"content"`
				OutputDimensionality int `json:"outputDimensionality"`
			} `json:"requests"`
		}
		if err := decodeBody(r, &body); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if len(body.Requests) == 0 {
			writeError(w, http.StatusBadRequest, "requests must not be empty")
			return
		}
		var inputs []string
		for _, q := range body.Requests {
			var b strings.Builder
			for _, p := range q.Content.Parts {
				b.WriteString(p.Text)
			}
			inputs = append(inputs, b.String())
		}
		model, _ := strings.CutSuffix(r.PathValue("call"), ":batchEmbedContents")
		req := Request{Path: r.URL.Path, Query: r.URL.Query(), Headers: r.Header.Clone(), Model: model, Input: inputs}
		if status := s.admit(req); status != 0 {
			writeError(w, status, fmt.Sprintf("mock failure (status %d)", status))
			return
		}
		s.enter()
		defer s.leave()
		if !s.wait(r.Context()) {
			return
		}
		out := make([]map[string]any, len(inputs))
		for i, text := range inputs {
			out[i] = map[string]any{"values": Embedding(text, body.Requests[i].OutputDimensionality)}
		}
		writeJSON(w, http.StatusOK, map[string]any{"embeddings": out})
	})
}
