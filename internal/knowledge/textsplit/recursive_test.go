package textsplit

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// line is LangChain's textLineGenerator: length-1 copies of char and a newline.
func line(char string, length int) string {
	return strings.Repeat(char, length-1) + "\n"
}

func newSplitter(t *testing.T, size, overlap int) *Recursive {
	t.Helper()
	r, err := NewRecursive(size, overlap, nil)
	require.NoError(t, err)
	return r
}

func lines(from, to int) map[string]any {
	return map[string]any{"loc": map[string]any{"lines": map[string]any{"from": from, "to": to}}}
}

// The cases below are LangChain.js's own tests for RecursiveCharacterTextSplitter
// (@langchain/textsplitters 1.0.1, src/tests/text_splitter.test.ts), with the same expectations.

func TestIterativeSplit(t *testing.T) {
	text := "Hi.\n\nI'm Harrison.\n\nHow? Are? You?\nOkay then f f f f.\nThis is a weird text to write, but gotta test the splittingggg some how.\n\n\nBye!\n\n-H."
	got := newSplitter(t, 10, 1).SplitText(text)
	require.Equal(t, []string{
		"Hi.", "I'm", "Harrison.", "How? Are?", "You?", "Okay then", "f f f f.", "This is a", "weird",
		"text to", "write,", "but gotta", "test the", "splitting", "gggg", "some how.", "Bye!", "-H.",
	}, got)
}

func TestCreateDocuments(t *testing.T) {
	a, b, c, d := line("A", 70), line("B", 70), line("C", 70), line("D", 70)
	cases := []struct {
		name    string
		overlap int
		content string
		want    []Document
	}{
		{"one chunk", 0, a, []Document{{strings.TrimSpace(a), lines(1, 1)}}},
		{"two chunks", 0, a + b, []Document{{strings.TrimSpace(a), lines(1, 1)}, {strings.TrimSpace(b), lines(2, 2)}}},
		{"similar text", 0, a + a, []Document{{strings.TrimSpace(a), lines(1, 1)}, {strings.TrimSpace(a), lines(2, 2)}}},
		{"leading new lines", 0, line("\n", 2) + a + line("\n", 4) + b + line("\n", 4),
			[]Document{{strings.TrimSpace(a), lines(3, 3)}, {strings.TrimSpace(b), lines(8, 8)}}},
		{"overlap", 30, a + line("B", 20) + c,
			[]Document{{a + strings.TrimSpace(line("B", 20)), lines(1, 2)}, {line("B", 20) + strings.TrimSpace(c), lines(2, 3)}}},
		{"overlap with new lines", 30, a + line("B", 10) + line("C", 10) + d,
			[]Document{
				{a + line("B", 10) + strings.TrimSpace(line("C", 10)), lines(1, 3)},
				{line("B", 10) + line("C", 10) + strings.TrimSpace(d), lines(2, 4)},
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := newSplitter(t, 100, tc.overlap).CreateDocuments([]string{tc.content}, nil)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestSeparatorLengthCounts(t *testing.T) {
	r := newSplitter(t, 7, 3)
	r.KeepSeparator = false
	require.Equal(t, []string{"aa ab", "ab ac", "ac ba", "ba bb"}, r.SplitText("aa ab ac ba bb"))
}

func TestDefaultsAndValidation(t *testing.T) {
	r, err := FromConfig(map[string]any{})
	require.NoError(t, err)
	require.Equal(t, 1000, r.ChunkSize)
	require.Equal(t, 200, r.ChunkOverlap)
	require.Equal(t, DefaultSeparators, r.Separators)
	require.True(t, r.KeepSeparator)

	r, err = FromConfig(map[string]any{"chunkSize": "500", "chunkOverlap": "0", "separators": `["\n", " "]`})
	require.NoError(t, err)
	require.Equal(t, []any{500, 0, []string{"\n", " "}}, []any{r.ChunkSize, r.ChunkOverlap, r.Separators})
	r, err = FromConfig(map[string]any{"chunkSize": float64(300), "chunkOverlap": float64(0)})
	require.NoError(t, err)
	require.Equal(t, []int{300, 200}, []int{r.ChunkSize, r.ChunkOverlap}, "a numeric 0 is falsy in JavaScript: default")
	_, err = FromConfig(map[string]any{"chunkSize": "abc"})
	require.ErrorIs(t, err, ErrConfig)

	_, err = NewRecursive(100, 100, nil)
	require.ErrorIs(t, err, ErrConfig)
	require.ErrorContains(t, err, "Cannot have chunkOverlap >= chunkSize")
}

func TestMetadataIsCopiedPerChunk(t *testing.T) {
	r := newSplitter(t, 11, 0)
	meta := map[string]any{"source": "blob", "loc": map[string]any{"pageNumber": 2}}
	docs := r.CreateDocuments([]string{"one two\nthree four"}, []map[string]any{meta})
	require.Len(t, docs, 2)
	require.Equal(t, "one two", docs[0].PageContent)
	require.Equal(t, "three four", docs[1].PageContent)
	require.Equal(t, map[string]any{"source": "blob", "loc": map[string]any{"pageNumber": 2, "lines": map[string]any{"from": 1, "to": 1}}}, docs[0].Metadata)
	require.Equal(t, map[string]any{"from": 2, "to": 2}, docs[1].Metadata["loc"].(map[string]any)["lines"])
	_, mutated := meta["loc"].(map[string]any)["lines"]
	require.False(t, mutated, "the caller's metadata is not changed")
}

func TestLengthIsUTF16(t *testing.T) {
	// "😀" is two UTF-16 units in JavaScript, so five of them fill a chunk of 10 exactly and a
	// chunk never holds half of one.
	r := newSplitter(t, 10, 0)
	got := r.SplitText(strings.Repeat("😀", 7))
	require.Equal(t, []string{strings.Repeat("😀", 5), strings.Repeat("😀", 2)}, got)
}
