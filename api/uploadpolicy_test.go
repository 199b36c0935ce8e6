package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/models"
)

func TestUploadPolicy(t *testing.T) {
	chatbot := func(cfg string) *string { return &cfg }
	withFull := &models.ChatFlow{FlowData: `{"nodes":[],"edges":[]}`,
		ChatbotConfig: chatbot(`{"fullFileUpload":{"status":true,"allowedUploadFileTypes":"text/plain,application/pdf"}}`)}
	images := &models.ChatFlow{FlowData: `{"nodes":[
		{"id":"chatOpenAI_0","data":{"name":"chatOpenAI","category":"Chat Models","inputs":{"allowImageUploads":true}}},
		{"id":"llmChain_0","data":{"name":"llmChain","category":"Chains","inputs":{}}}],"edges":[]}`}
	imagesNoChain := &models.ChatFlow{FlowData: `{"nodes":[
		{"id":"chatOpenAI_0","data":{"name":"chatOpenAI","category":"Chat Models","inputs":{"allowImageUploads":true}}}],"edges":[]}`}
	rag := &models.ChatFlow{FlowData: `{"nodes":[
		{"id":"pdfFile_0","data":{"name":"pdfFile","category":"Document Loaders","inputParams":[{"type":"file","fileType":".pdf"}]}},
		{"id":"memoryVectorStore_0","data":{"name":"memoryVectorStore","category":"Vector Stores","inputs":{"fileUpload":true}}}],
		"edges":[{"source":"pdfFile_0","target":"memoryVectorStore_0","targetHandle":"memoryVectorStore_0-input-document-Document"}]}`}
	nothing := &models.ChatFlow{FlowData: `{"nodes":[],"edges":[]}`}

	cases := []struct {
		name            string
		flow            *models.ChatFlow
		kind, file, typ string
		size            int
		want            string // "" when allowed, else a part of the refusal
	}{
		{"whole file allowed", withFull, "file", "notes.txt", "text/plain", 10, ""},
		{"form file allowed", withFull, "form", "doc.pdf", "application/pdf", 10, ""},
		{"file:full text", withFull, "file:full", "notes.txt", "text/plain", 0, ""},
		{"type not listed", withFull, "file", "page.html", "text/html", 10, "File type 'text/html' is not allowed"},
		{"spoofed extension", withFull, "file", "page.html", "text/plain", 10, "does not match declared MIME type"},
		{"no extension", withFull, "form", "README", "text/plain", 10, "must have a valid file extension"},
		{"uploads off", nothing, "file", "notes.txt", "text/plain", 10, "File upload is not enabled"},
		{"attachments off", nothing, "form", "notes.txt", "text/plain", 10, "File upload is not enabled"},
		{"image allowed", images, "file", "cat.png", "image/png", 10, ""},
		{"image by url", images, "url", "cat", "image/png", 0, ""},
		{"image too big", images, "file", "cat.png", "image/png", 6 << 20, "larger than 5 MB"},
		{"image type not taken", images, "file", "cat.svg", "image/svg+xml", 10, "is not allowed"},
		{"image without a chain that takes it", imagesNoChain, "file", "cat.png", "image/png", 10, "Image upload is not enabled"},
		{"image off", nothing, "url", "cat", "image/png", 0, "Image upload is not enabled"},
		{"rag file", rag, "file:rag", "doc.pdf", "application/pdf", 10, ""},
		{"rag type not taken", rag, "file:rag", "notes.txt", "text/plain", 10, "is not allowed"},
		{"rag off", nothing, "file:rag", "doc.pdf", "application/pdf", 10, "not enabled"},
		{"audio", withFull, "audio", "voice.webm", "audio/webm", 10, "Speech to text is not enabled"},
	}
	for _, c := range cases {
		err := policyOf(c.flow).check(c.kind, c.file, c.typ, c.size)
		if c.want == "" {
			require.NoError(t, err, c.name)
			continue
		}
		require.ErrorContains(t, err, c.want, c.name)
		var bad *uploadError
		require.ErrorAs(t, err, &bad, "%s: a refusal is the client's to fix (400)", c.name)
	}
}
