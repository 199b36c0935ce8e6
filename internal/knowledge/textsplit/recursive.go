// Package textsplit cuts documents into chunks the way Flowise's text splitter nodes do, so a
// document store upserted here holds the same chunks it would in Flowise.
package textsplit

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Document is a piece of text and what is known about where it came from.
type Document struct {
	PageContent string         `json:"pageContent"`
	Metadata    map[string]any `json:"metadata"`
}

// DefaultSeparators are tried in order: paragraphs, lines, words, characters.
var DefaultSeparators = []string{"\n\n", "\n", " ", ""}

// Recursive is Flowise's recursiveCharacterTextSplitter (LangChain.js
// RecursiveCharacterTextSplitter from @langchain/textsplitters 1.0.1, the version Flowise pins).
// Lengths are counted in UTF-16 code units, as JavaScript's String.length counts them, so chunk
// boundaries match Flowise's for any text.
type Recursive struct {
	ChunkSize    int
	ChunkOverlap int
	Separators   []string
	// KeepSeparator leaves each separator at the start of the piece that follows it (LangChain's
	// default for this splitter) instead of dropping it.
	KeepSeparator bool
	// custom replaces the recursive split (the character and token splitters).
	custom func(text string) []string
}

// Flowise's defaults.
const (
	DefaultChunkSize    = 1000
	DefaultChunkOverlap = 200
)

// NewRecursive returns a splitter; nil separators mean DefaultSeparators.
func NewRecursive(chunkSize, chunkOverlap int, separators []string) (*Recursive, error) {
	if len(separators) == 0 {
		separators = DefaultSeparators
	}
	r := &Recursive{ChunkSize: chunkSize, ChunkOverlap: chunkOverlap, Separators: separators, KeepSeparator: true}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// ErrConfig marks settings no split can succeed with.
var ErrConfig = errors.New("invalid text splitter settings")

func (r *Recursive) validate() error {
	if r.ChunkSize <= 0 {
		return fmt.Errorf("%w: chunkSize %d must be positive", ErrConfig, r.ChunkSize)
	}
	if r.ChunkOverlap < 0 {
		return fmt.Errorf("%w: chunkOverlap %d is negative", ErrConfig, r.ChunkOverlap)
	}
	if r.ChunkOverlap >= r.ChunkSize {
		// LangChain's own message.
		return fmt.Errorf("%w: Cannot have chunkOverlap >= chunkSize", ErrConfig)
	}
	return nil
}

// SplitText cuts text into chunks of at most ChunkSize where separators allow.
func (r *Recursive) SplitText(text string) []string {
	if r.custom != nil {
		return r.custom(text)
	}
	seps := r.Separators
	if len(seps) == 0 {
		seps = DefaultSeparators
	}
	return r.split(text, seps)
}

func (r *Recursive) split(text string, separators []string) []string {
	var final []string
	// The first separator the text contains wins; "" (characters) always does. Without one,
	// the last separator is used and the pieces are not split further.
	separator := separators[len(separators)-1]
	var next []string
	for i, s := range separators {
		if s == "" {
			separator = s
			break
		}
		if strings.Contains(text, s) {
			separator = s
			next = separators[i+1:]
			break
		}
	}
	splits := r.splitOnSeparator(text, separator)
	joiner := separator
	if r.KeepSeparator {
		joiner = ""
	}
	var good []string
	for _, s := range splits {
		if length(s) < r.ChunkSize {
			good = append(good, s)
			continue
		}
		if len(good) > 0 {
			final = append(final, r.mergeSplits(good, joiner)...)
			good = nil
		}
		if next == nil {
			final = append(final, s)
		} else {
			final = append(final, r.split(s, next)...)
		}
	}
	if len(good) > 0 {
		final = append(final, r.mergeSplits(good, joiner)...)
	}
	return final
}

// splitOnSeparator is JavaScript's split: with KeepSeparator a lookahead split, so each piece
// after the first starts with the separator; "" splits into characters; empty pieces go.
func (r *Recursive) splitOnSeparator(text, separator string) []string {
	var splits []string
	switch {
	case separator == "":
		splits = splitChars(text)
	case r.KeepSeparator:
		rest := text
		for {
			// Search from the second byte so the piece keeps the separator it starts with,
			// as a zero-width lookahead does.
			i := -1
			if len(rest) > 0 {
				if j := strings.Index(rest[1:], separator); j >= 0 {
					i = j + 1
				}
			}
			if i < 0 {
				splits = append(splits, rest)
				break
			}
			splits = append(splits, rest[:i])
			rest = rest[i:]
		}
	default:
		splits = strings.Split(text, separator)
	}
	out := splits[:0]
	for _, s := range splits {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitChars is "".split("") in JavaScript, by code point rather than by UTF-16 unit, so no
// chunk ever holds half a surrogate pair.
func splitChars(text string) []string {
	out := make([]string, 0, len(text))
	for _, c := range text {
		out = append(out, string(c))
	}
	return out
}

// mergeSplits packs pieces into chunks of at most ChunkSize, starting each new chunk with up to
// ChunkOverlap of the previous one's tail.
func (r *Recursive) mergeSplits(splits []string, separator string) []string {
	var docs []string
	var current []string
	total := 0
	sepLen := length(separator)
	for _, d := range splits {
		n := length(d)
		if total+n+len(current)*sepLen > r.ChunkSize && len(current) > 0 {
			if doc, ok := joinDocs(current, separator); ok {
				docs = append(docs, doc)
			}
			for total > r.ChunkOverlap || (total+n+len(current)*sepLen > r.ChunkSize && total > 0) {
				total -= length(current[0])
				current = current[1:]
			}
		}
		current = append(current, d)
		total += n
	}
	if doc, ok := joinDocs(current, separator); ok {
		docs = append(docs, doc)
	}
	return docs
}

func joinDocs(docs []string, separator string) (string, bool) {
	text := jsTrim(strings.Join(docs, separator))
	return text, text != ""
}

// jsTrim is JavaScript's String.prototype.trim: white space and line terminators.
func jsTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\uFEFF':
			return true
		case '\u0085':
			return false
		}
		return unicode.IsSpace(r)
	})
}

// length is JavaScript's String.length: UTF-16 code units.
func length(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// CreateDocuments splits each text into documents carrying a copy of the text's metadata (when
// metadatas is not empty) plus loc.lines, the first and last line of the chunk in its text.
func (r *Recursive) CreateDocuments(texts []string, metadatas []map[string]any) []Document {
	var docs []Document
	for i, text := range texts {
		var meta map[string]any
		if i < len(metadatas) {
			meta = metadatas[i]
		}
		line := 1
		prev := ""
		havePrev := false
		prevIndex := -1 // in UTF-16 units, as LangChain counts
		units := utf16.Encode([]rune(text))
		for _, chunk := range r.SplitText(text) {
			idx := indexUnits(units, utf16.Encode([]rune(chunk)), prevIndex+1)
			if !havePrev {
				line += newlines(units, 0, idx)
			} else {
				endPrev := prevIndex + length(prev)
				if endPrev < idx {
					line += newlines(units, endPrev, idx)
				} else if endPrev > idx {
					line -= newlines(units, idx, endPrev)
				}
			}
			n := strings.Count(chunk, "\n")
			md := make(map[string]any, len(meta)+1)
			for k, v := range meta {
				md[k] = v
			}
			loc := map[string]any{}
			if old, ok := meta["loc"].(map[string]any); ok {
				for k, v := range old {
					loc[k] = v
				}
			}
			loc["lines"] = map[string]any{"from": line, "to": line + n}
			md["loc"] = loc
			docs = append(docs, Document{PageContent: chunk, Metadata: md})
			line += n
			prev, havePrev, prevIndex = chunk, true, idx
		}
	}
	return docs
}

// indexUnits is JavaScript's indexOf over UTF-16 units, -1 when absent.
func indexUnits(hay, needle []uint16, from int) int {
	from = max(from, 0)
	for i := from; i+len(needle) <= len(hay); i++ {
		match := true
		for j := range needle {
			if hay[i+j] != needle[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// newlines counts '\n' in units[start:end] with JavaScript slice semantics (negative end
// counts from the back, bounds clamp).
func newlines(units []uint16, start, end int) int {
	n := len(units)
	clamp := func(i int) int {
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	start, end = clamp(start), clamp(end)
	c := 0
	for i := start; i < end; i++ {
		if units[i] == '\n' {
			c++
		}
	}
	return c
}
