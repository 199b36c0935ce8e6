package textsplit

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCharacterSplitterPacksPiecesAtItsSeparator(t *testing.T) {
	s, err := FromNode(CharacterName, map[string]any{"chunkSize": "12", "chunkOverlap": "0", "separator": " "})
	require.NoError(t, err)
	require.Equal(t, []string{"one two", "three four", "five"}, s.SplitText("one two three four five"))

	def, err := FromNode(CharacterName, map[string]any{"chunkSize": 10.0, "chunkOverlap": 2.0})
	require.NoError(t, err)
	require.Equal(t, []string{"first", "second", "third"}, def.SplitText("first\n\nsecond\n\nthird"))
}

func TestMarkdownSplitterCutsAtHeadingsFirst(t *testing.T) {
	s, err := FromNode(MarkdownName, map[string]any{"chunkSize": "30", "chunkOverlap": "0"})
	require.NoError(t, err)
	got := s.SplitText("# Title\nintro line\n## Part one\nalpha beta\n## Part two\ngamma delta")
	require.Equal(t, []string{"# Title\nintro line", "## Part one\nalpha beta", "## Part two\ngamma delta"}, got)
}

func TestTokenSplitterWindowsOverlap(t *testing.T) {
	s, err := FromNode(TokenName, map[string]any{"chunkSize": "4", "chunkOverlap": "1"})
	require.NoError(t, err)
	require.Equal(t, []string{"a b c d", " d e f g", " g h"}, s.SplitText("a b c d e f g h"))
	docs := s.CreateDocuments([]string{"a b c d e f g h"}, []map[string]any{{"source": "x"}})
	require.Len(t, docs, 3)
	require.Equal(t, "x", docs[1].Metadata["source"])
}

func TestFromNodeRefusesUnknownAndBadSizes(t *testing.T) {
	_, err := FromNode("htmlToMarkdownTextSplitter", nil)
	require.ErrorIs(t, err, ErrConfig)
	_, err = FromNode(CharacterName, map[string]any{"chunkSize": "10", "chunkOverlap": "10"})
	require.ErrorIs(t, err, ErrConfig)
}
