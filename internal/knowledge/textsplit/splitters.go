package textsplit

import (
	"fmt"
	"regexp"
	"strings"
)

// Flowise node names of the other text splitters.
const (
	CharacterName = "characterTextSplitter"
	MarkdownName  = "markdownTextSplitter"
	TokenName     = "tokenTextSplitter"
)

// Names lists the splitter nodes this package runs.
var Names = []string{RecursiveName, CharacterName, MarkdownName, TokenName}

// Splitter cuts texts into documents.
type Splitter interface {
	SplitText(text string) []string
	CreateDocuments(texts []string, metadatas []map[string]any) []Document
}

// FromNode builds the splitter a Flowise splitter node describes, from its inputs.
func FromNode(name string, inputs map[string]any) (Splitter, error) {
	switch name {
	case RecursiveName:
		return FromConfig(inputs)
	case MarkdownName:
		return markdownFromConfig(inputs)
	case CharacterName:
		return characterFromConfig(inputs)
	case TokenName:
		return tokenFromConfig(inputs)
	}
	return nil, fmt.Errorf("%w: text splitter %q is not supported (supported: %s)", ErrConfig, name, strings.Join(Names, ", "))
}

func sizes(inputs map[string]any) (int, int, error) {
	size, err := intInput(inputs, "chunkSize", DefaultChunkSize)
	if err != nil {
		return 0, 0, err
	}
	overlap, err := intInput(inputs, "chunkOverlap", DefaultChunkOverlap)
	return size, overlap, err
}

// MarkdownSeparators are LangChain's for markdown: headings from level 2, code block ends,
// horizontal rules, then paragraphs, lines, words and characters.
var MarkdownSeparators = []string{"\n## ", "\n### ", "\n#### ", "\n##### ", "\n###### ", "```\n\n",
	"\n\n***\n\n", "\n\n---\n\n", "\n\n___\n\n", "\n\n", "\n", " ", ""}

// markdownFromConfig is Flowise's markdownTextSplitter: the recursive splitter with markdown's
// separators.
func markdownFromConfig(inputs map[string]any) (*Recursive, error) {
	size, overlap, err := sizes(inputs)
	if err != nil {
		return nil, err
	}
	return NewRecursive(size, overlap, MarkdownSeparators)
}

// NewCharacter is LangChain's CharacterTextSplitter: the text cut at separator (default a
// blank line), the pieces packed into chunks joined by it.
func NewCharacter(chunkSize, chunkOverlap int, separator string) (*Recursive, error) {
	r, err := NewRecursive(chunkSize, chunkOverlap, []string{separator})
	if err != nil {
		return nil, err
	}
	r.KeepSeparator = false
	r.custom = func(text string) []string {
		return r.mergeSplits(r.splitOnSeparator(text, separator), separator)
	}
	return r, nil
}

func characterFromConfig(inputs map[string]any) (*Recursive, error) {
	size, overlap, err := sizes(inputs)
	if err != nil {
		return nil, err
	}
	sep := "\n\n"
	if s, ok := inputs["separator"].(string); ok && s != "" {
		sep = s
	}
	return NewCharacter(size, overlap, sep)
}

// preToken is GPT-2's pre-tokenizer pattern without its lookahead: every piece it cuts is at
// least one BPE token.
var preToken = regexp.MustCompile(`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+`)

// NewToken is Flowise's tokenTextSplitter: windows of chunkSize tokens, each starting
// chunkSize-chunkOverlap tokens after the previous. Flowgate has no BPE vocabulary, so it counts
// GPT-2 pre-tokens (words, numbers, punctuation runs, spaces), each of which is one token or
// more: chunks hold the same number of pieces as Flowise's hold tokens, and are a little longer.
func NewToken(chunkSize, chunkOverlap int) (*Recursive, error) {
	r, err := NewRecursive(chunkSize, chunkOverlap, nil)
	if err != nil {
		return nil, err
	}
	r.custom = func(text string) []string {
		toks := preToken.FindAllString(text, -1)
		var out []string
		for start := 0; start < len(toks); start += chunkSize - chunkOverlap {
			out = append(out, strings.Join(toks[start:min(start+chunkSize, len(toks))], ""))
			if start+chunkSize >= len(toks) {
				break
			}
		}
		return out
	}
	return r, nil
}

func tokenFromConfig(inputs map[string]any) (*Recursive, error) {
	size, overlap, err := sizes(inputs)
	if err != nil {
		return nil, err
	}
	return NewToken(size, overlap)
}
