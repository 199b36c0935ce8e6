package activities_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/testkit/hostile"
	"github.com/flowgate/flowgate/workflows/node"
)

// TestChainReadsUploadedFilesFromStorage: the chain puts the text of the turn's stored files
// (and of file:full uploads) before the question, as Flowise does; images and files without
// text are left to the nodes that take them.
func TestChainReadsUploadedFilesFromStorage(t *testing.T) {
	s := newChainSetup(t, nil)
	put := func(name, body string) {
		key, err := storage.Key("flow-1", "chat-1", name)
		require.NoError(t, err)
		require.NoError(t, s.files.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), ""))
	}
	put("notes.md", "# Notes\nthe answer is 42")
	put("photo.png", "\x89PNG\r\n\x1a\n")
	put("blob.bin", "\x00\x01\x02\x03")
	run := node.Run{
		ChatflowID: "flow-1", ChatID: "chat-1", Question: "what is the answer?",
		FilesContent: node.FileDoc("pasted.txt", "pasted text"),
		Uploads: []node.Upload{
			{Type: node.UploadStoredFull, Name: "pasted.txt", Mime: "text/plain"},
			{Type: node.UploadStored, Name: "notes.md", Mime: "text/markdown"},
			{Type: node.UploadStored, Name: "photo.png", Mime: "image/png"},
			{Type: node.UploadStored, Name: "blob.bin", Mime: "application/octet-stream"},
		},
	}
	_, err := s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, run, true))
	require.NoError(t, err)
	reqs := s.mock.Requests()
	require.Len(t, reqs, 1)
	asked := reqs[0].Messages[len(reqs[0].Messages)-1].Content
	require.Equal(t, "You are a benchmark bot. Reply to: "+
		"<doc name='pasted.txt'>pasted text</doc>\n\n<doc name='notes.md'># Notes\nthe answer is 42</doc>\n\n\n\nwhat is the answer?", asked)

	// A file that is gone is the flow's problem, not worth a retry.
	run.Uploads = append(run.Uploads, node.Upload{Type: node.UploadStored, Name: "gone.txt", Mime: "text/plain"})
	_, err = s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, run, true))
	app := requireAppError(t, err, node.ErrFlow, true)
	require.Contains(t, app.Error(), "gone.txt")
}

// TestHostileUploadsFailTheTurn: a PDF whose page tree contains itself looped for ever in the
// worker, once more on every retry, and deeply nested JSON took 875 MB. Both now fail the turn
// at once as an invalid request, naming the file, without a retry.
func TestHostileUploadsFailTheTurn(t *testing.T) {
	s := newChainSetup(t, nil)
	for name, body := range map[string]string{
		"loop.pdf":  hostile.SelfReferencingPDF,
		"deep.json": hostile.DeepJSON,
	} {
		t.Run(name, func(t *testing.T) {
			key, err := storage.Key("flow-1", "chat-1", name)
			require.NoError(t, err)
			require.NoError(t, s.files.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), ""))
			run := node.Run{ChatflowID: "flow-1", ChatID: "chat-1", Question: "summarise",
				Uploads: []node.Upload{{Type: node.UploadStored, Name: name}}}
			_, err = s.run(t, s.llmChainRequest(t, node.Prompt{Template: llmTemplate}, run, true))
			app := requireAppError(t, err, node.ErrInvalid, true)
			require.Contains(t, app.Error(), "file "+name+" could not be read: ")
			require.Empty(t, s.mock.Requests(), "the model is not called")
		})
	}
}
