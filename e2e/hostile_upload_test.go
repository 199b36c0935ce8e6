package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/hostile"
)

// hostileFiles are the two uploads of issue 13: a PDF whose page tree contains itself, which
// spun a core for good, and JSON nested 10,000 deep, which took 875 MB.
var hostileFiles = []formFile{
	{"loop.pdf", "application/pdf", []byte(hostile.SelfReferencingPDF)},
	{"deep.json", "application/json", []byte(hostile.DeepJSON)},
}

// TestHostileAttachmentsAreRefused: the attachments route answers 422 in Flowise's shape at
// once, and stores nothing, not even the good file sent before the bad one.
func TestHostileAttachmentsAreRefused(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-hostile"})
	flowID := h.createFlow("hostile", h.loadFlow("llm-chain.json", cred), fileUploads)
	for _, f := range hostileFiles {
		t.Run(f.name, func(t *testing.T) {
			start := time.Now()
			status, body := h.doMultipart("/api/v1/attachments/"+flowID+"/c1", nil,
				formFile{"notes.txt", "text/plain", []byte("fine")}, f)
			requireFlowiseError(t, status, body, 422, "file "+f.name+" could not be read: ")
			require.Less(t, time.Since(start), 10*time.Second)
			status, _, _ = h.getUpload(flowID, "c1", "notes.txt")
			require.Equal(t, 404, status, "nothing is stored")
		})
	}
}

// TestHostileUploadFailsThePrediction: sent with a prediction, the same files are read on the
// worker; the turn fails at once with 422, naming the file, and no model is called.
func TestHostileUploadFailsThePrediction(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-hostile"})
	flowID := h.createFlow("hostile", h.loadFlow("llm-chain.json", cred), fileUploads)
	for _, f := range hostileFiles {
		t.Run(f.name, func(t *testing.T) {
			start := time.Now()
			status, body := h.doMultipart("/api/v1/prediction/"+flowID,
				map[string]string{"question": "summarise", "chatId": "c-" + f.name}, f)
			requireFlowiseError(t, status, body, 422, "file "+f.name+" could not be read: ")
			require.Less(t, time.Since(start), 10*time.Second)
		})
	}
	require.Empty(t, h.mock.Requests(), "the model is not called")
}
