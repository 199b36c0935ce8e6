package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/storage/offload"
	"github.com/flowgate/flowgate/internal/testkit/llmmock"
	"github.com/flowgate/flowgate/internal/testkit/s3test"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// formFile is one file of a multipart request.
type formFile struct {
	name, mime string
	data       []byte
}

// doMultipart sends fields and files (under "files") as multipart/form-data.
func (h *harness) doMultipart(path string, fields map[string]string, files ...formFile) (int, []byte) {
	h.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(h.t, w.WriteField(k, v))
	}
	for _, f := range files {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename=%q`, f.name))
		hdr.Set("Content-Type", f.mime)
		part, err := w.CreatePart(hdr)
		require.NoError(h.t, err)
		_, err = part.Write(f.data)
		require.NoError(h.t, err)
	}
	require.NoError(h.t, w.Close())
	req, err := http.NewRequest("POST", h.base+path, &buf)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return h.send(req)
}

// getUpload fetches a stored upload: status, body and content type.
func (h *harness) getUpload(flowID, chatID, name string) (int, []byte, string) {
	h.t.Helper()
	q := url.Values{"chatflowId": {flowID}, "chatId": {chatID}, "fileName": {name}}
	resp, err := httpClient.Get(h.base + "/api/v1/get-upload-file?" + q.Encode())
	require.NoError(h.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, body, resp.Header.Get("Content-Type")
}

func dataURI(mime string, data []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// lastUserMessage is what the model was last asked.
func lastUserMessage(t *testing.T, mock *llmmock.Server) string {
	t.Helper()
	reqs := mock.Requests()
	require.NotEmpty(t, reqs)
	msgs := reqs[len(reqs)-1].Messages
	return msgs[len(msgs)-1].Content
}

func headObject(t *testing.T, srv *s3test.Server, bucket, key string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err
}

func listKeys(t *testing.T, srv *s3test.Server, bucket, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	require.NoError(t, err)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// TestUploadsOnS3AcrossProcesses runs queue mode on a real S3-compatible server: files come in
// through an API process, the node that reads them runs in a separate worker process, and
// every file lands under <chatflowId>/<chatId>/ and leaves with its messages or chatflow.
func TestUploadsOnS3AcrossProcesses(t *testing.T) {
	srv := s3test.Start(t)
	const bucket = "flowgate-uploads"
	srv.CreateBucket(t, bucket)
	c := newCluster(t)
	c.env = append(c.env, srv.Env(bucket)...)
	h := c.api()
	h.mock = llmmock.NewTestServer(t, llmmock.Options{})
	c.worker()
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-s3"})
	flowID := h.createFlow("uploads", h.loadFlow("llm-chain.json", cred), fileUploads)

	// A base64 upload in a JSON prediction: stored by the API, read by the worker.
	notes := []byte("the secret word is pineapple")
	var ans predictionAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{
		"question": "what is the word?", "chatId": "chat-a",
		"uploads": []map[string]any{{"type": "file", "name": "notes.txt", "mime": "text/plain", "data": dataURI("text/plain", notes)}},
	}, 200, &ans)
	asked := lastUserMessage(t, h.mock)
	require.Contains(t, asked, "<doc name='notes.txt'>the secret word is pineapple</doc>")
	require.Contains(t, asked, "what is the word?")
	require.NoError(t, headObject(t, srv, bucket, flowID+"/chat-a/notes.txt"))

	status, body, ctype := h.getUpload(flowID, "chat-a", "notes.txt")
	require.Equal(t, 200, status, "%s", body)
	require.Equal(t, notes, body)
	require.Contains(t, ctype, "text/plain")

	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID+"?chatId=chat-a", nil, 200, &msgs)
	require.Len(t, msgs, 2)
	require.NotNil(t, msgs[0].FileUploads)
	require.JSONEq(t, `[{"type":"stored-file","name":"notes.txt","mime":"text/plain"}]`, *msgs[0].FileUploads)
	require.Equal(t, "what is the word?", msgs[0].Content, "the stored question is the user's, without the file")

	// Multipart prediction with files, and the attachments route, on another chat.
	status, body = h.doMultipart("/api/v1/prediction/"+flowID,
		map[string]string{"question": "summarise", "chatId": "chat-b"},
		formFile{"report.md", "text/markdown", []byte("# Q3\nrevenue grew 12%")})
	require.Equal(t, 200, status, "%s", body)
	require.Contains(t, lastUserMessage(t, h.mock), "<doc name='report.md'># Q3\nrevenue grew 12%</doc>")

	status, body = h.doMultipart("/api/v1/attachments/"+flowID+"/chat-b", nil,
		formFile{"table.csv", "text/csv", []byte("name,qty\napple,3\n")},
		formFile{"data.json", "application/json", []byte(`{"a":1}`)},
		formFile{"page.html", "text/html", []byte("<html><head><script>evil()</script></head><body><p>Hello &amp; welcome</p></body></html>")})
	require.Equal(t, 200, status, "%s", body)
	var atts []struct {
		Name, MimeType, Content string
		Size                    int64
	}
	require.NoError(t, json.Unmarshal(body, &atts))
	require.Len(t, atts, 3)
	require.Contains(t, atts[0].Content, "qty: 3")
	require.Contains(t, atts[1].Content, `"a": 1`)
	require.Equal(t, "Hello & welcome", strings.TrimSpace(atts[2].Content))
	require.EqualValues(t, len(`{"a":1}`), atts[1].Size)
	require.ElementsMatch(t, []string{
		flowID + "/chat-b/report.md", flowID + "/chat-b/table.csv", flowID + "/chat-b/data.json", flowID + "/chat-b/page.html",
	}, listKeys(t, srv, bucket, flowID+"/chat-b/"))

	// Deleting a chat's messages removes that chat's files only.
	h.doJSON("DELETE", "/api/v1/chatmessage/"+flowID+"?chatId=chat-a", nil, 200, nil)
	status, _, _ = h.getUpload(flowID, "chat-a", "notes.txt")
	require.Equal(t, 404, status)
	require.Empty(t, listKeys(t, srv, bucket, flowID+"/chat-a/"))
	require.NotEmpty(t, listKeys(t, srv, bucket, flowID+"/chat-b/"))

	// Deleting the chatflow removes the rest.
	h.doJSON("DELETE", "/api/v1/chatflows/"+flowID, nil, 200, nil)
	require.Empty(t, listKeys(t, srv, bucket, flowID+"/"))
}

// s3Harness is one Flowgate process storing in bucket on a real S3-compatible server, with
// llm-chain.json loaded.
func s3Harness(t *testing.T, bucket string) (*s3test.Server, *harness, string) {
	t.Helper()
	srv := s3test.Start(t)
	srv.CreateBucket(t, bucket)
	h := newHarness(t, func(c *config.Config) { c.Storage = srv.Config(bucket) })
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-" + bucket})
	return srv, h, h.createFlow(bucket, h.loadFlow("llm-chain.json", cred), fileUploads)
}

// TestFiveMegabyteDocumentBetweenNodes passes a 5 MB document through the prompt, the chain
// and the model: Temporal refuses payloads over 2 MB, so the history must carry references to
// values kept in the S3 bucket.
func TestFiveMegabyteDocumentBetweenNodes(t *testing.T) {
	srv, h, flowID := s3Harness(t, "big")
	line := "All work and no play makes a long document. "
	doc := strings.Repeat(line, 5<<20/len(line)+1) + "THE END"
	require.Greater(t, len(doc), 5<<20)

	var ans predictionAnswer
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{
		"question": "how does it end?", "chatId": "big-1",
		"uploads": []map[string]any{{"type": "file:full", "name": "novel.txt", "mime": "text/plain", "data": doc}},
	}, 200, &ans)
	require.Greater(t, len(ans.Text), len(doc), "the model's echo of the document comes back whole")
	require.Contains(t, ans.Text, "THE END</doc>")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := h.app.Temporal().GetWorkflowHistory(ctx, node.WorkflowID(flowID, "big-1"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	offloaded := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		require.Less(t, len(raw), 512<<10, "event %d (%s) is too big for history", ev.GetEventId(), ev.GetEventType())
		offloaded += strings.Count(string(raw), base64.StdEncoding.EncodeToString([]byte(offload.Encoding)))
	}
	require.Positive(t, offloaded, "large values travel as references")
	require.NotEmpty(t, listKeys(t, srv, "big", offload.Prefix), "the values are in the bucket")
}

// fileUploads turns on whole-file uploads of the text types these tests send, as a Flowise user
// does in the chatflow's configuration (chatbotConfig.fullFileUpload).
var fileUploads = map[string]any{"chatbotConfig": `{"fullFileUpload":{"status":true,` +
	`"allowedUploadFileTypes":"text/plain,text/markdown,text/csv,application/json,text/html,application/pdf"}}`}

// TestUploadsOnlyWhereTheChatflowTakesThem: a chatflow that does not enable uploads refuses
// them on every route, before anything is stored; one that does refuses the types it does not
// list and files whose extension contradicts their type.
func TestUploadsOnlyWhereTheChatflowTakesThem(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-gate"})
	closed := h.createFlow("closed", h.loadFlow("llm-chain.json", cred), nil)
	file := []map[string]any{{"type": "file", "name": "a.txt", "mime": "text/plain", "data": dataURI("text/plain", []byte("hello"))}}
	status, body := h.do("POST", "/api/v1/prediction/"+closed, map[string]any{"question": "hi", "chatId": "c1", "uploads": file})
	requireFlowiseError(t, status, body, 400, "File upload is not enabled for this chatflow")
	status, body = h.doMultipart("/api/v1/attachments/"+closed+"/c1", nil, formFile{"a.txt", "text/plain", []byte("hello")})
	requireFlowiseError(t, status, body, 400, "File upload is not enabled for this chatflow")
	status, body = h.doMultipart("/api/v1/prediction/"+closed, map[string]string{"question": "hi", "chatId": "c1"}, formFile{"a.txt", "text/plain", []byte("hello")})
	requireFlowiseError(t, status, body, 400, "File upload is not enabled for this chatflow")
	image := []map[string]any{{"type": "file", "name": "cat.png", "mime": "image/png", "data": dataURI("image/png", []byte("\x89PNG"))}}
	status, body = h.do("POST", "/api/v1/prediction/"+closed, map[string]any{"question": "hi", "chatId": "c1", "uploads": image})
	requireFlowiseError(t, status, body, 400, "Image upload is not enabled for this chatflow")
	status, _, _ = h.getUpload(closed, "c1", "a.txt")
	require.Equal(t, 404, status, "a refused file is not stored")
	h.requireNoMessages(closed)

	open := h.createFlow("open", h.loadFlow("llm-chain.json", cred), fileUploads)
	status, body = h.doMultipart("/api/v1/attachments/"+open+"/c2", nil, formFile{"tool.exe", "application/x-msdownload", []byte("MZ")})
	requireFlowiseError(t, status, body, 400, "is not supported")
	status, body = h.doMultipart("/api/v1/attachments/"+open+"/c2", nil, formFile{"page.html", "text/plain", []byte("<script>x()</script>")})
	requireFlowiseError(t, status, body, 400, "does not match declared MIME type")
	status, body = h.doMultipart("/api/v1/attachments/"+open+"/c2", nil, formFile{"doc.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", []byte("PK")})
	requireFlowiseError(t, status, body, 400, "is not allowed. Allowed types: text/plain")
	status, _, _ = h.getUpload(open, "c2", "page.html")
	require.Equal(t, 404, status)
}

// TestUploadNamesCannotEscapeTheirChat tries path traversal through every way a file name
// comes in; nothing is stored outside <chatflowId>/<chatId>/ and nothing is saved.
func TestUploadNamesCannotEscapeTheirChat(t *testing.T) {
	h := newHarness(t)
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-names"})
	flowID := h.createFlow("names", h.loadFlow("llm-chain.json", cred), fileUploads)
	for name, want := range map[string]string{
		"../../outside.txt": "is not allowed", "..": "is not allowed", "a/b.txt": "is not allowed",
		`..\..\outside.txt`: "is not allowed", "/etc/passwd": "is not allowed",
		"x\x00.txt": "uploads[0].name must not contain NUL", // refused with every other NUL in the request
	} {
		status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{
			"question": "hi", "chatId": "names",
			"uploads": []map[string]any{{"type": "file", "name": name, "mime": "text/plain", "data": dataURI("text/plain", []byte("x"))}},
		})
		requireFlowiseError(t, status, body, 400, want)
		status, body, _ = h.getUpload(flowID, "names", name)
		require.Equal(t, 400, status, "get-upload-file %q: %s", name, body)
	}
	status, body, _ := h.getUpload(flowID, "..", "x.txt")
	require.Equal(t, 400, status, "%s", body)

	// Multipart names lose any directory part, as Go's multipart reader does for every server.
	status, body = h.doMultipart("/api/v1/attachments/"+flowID+"/names", nil, formFile{"../../evil.txt", "text/plain", []byte("evil")})
	require.Equal(t, 200, status, "%s", body)
	status, got, _ := h.getUpload(flowID, "names", "evil.txt")
	require.Equal(t, 200, status)
	require.Equal(t, "evil", string(got))
	for _, outside := range []string{filepath.Join(h.cfg.BlobPath, "evil.txt"), filepath.Join(h.cfg.BlobPath, flowID, "evil.txt")} {
		_, err := os.Stat(outside)
		require.ErrorIs(t, err, os.ErrNotExist, outside)
	}
	_, err := os.Stat(filepath.Join(h.cfg.BlobPath, flowID, "names", "evil.txt"))
	require.NoError(t, err)

	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
	require.Empty(t, msgs, "refused uploads save nothing")
}

// TestBodyOverTheFileSizeLimitIs413 checks FLOWISE_FILE_SIZE_LIMIT on JSON and multipart bodies.
func TestBodyOverTheFileSizeLimitIs413(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.FileSizeLimit = 1 << 20 })
	cred := h.createCredential("openAIApi", map[string]any{"openAIApiKey": "sk-413"})
	flowID := h.createFlow("limit", h.loadFlow("llm-chain.json", cred), fileUploads)
	big := bytes.Repeat([]byte("x"), 2<<20)

	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{
		"question": "hi", "uploads": []map[string]any{{"type": "file", "name": "big.txt", "mime": "text/plain", "data": dataURI("text/plain", big)}},
	})
	requireFlowiseError(t, status, body, 413, "larger than the limit")
	status, body = h.doMultipart("/api/v1/attachments/"+flowID+"/c1", nil, formFile{"big.txt", "text/plain", big})
	requireFlowiseError(t, status, body, 413, "larger than the limit")
	status, body = h.doMultipart("/api/v1/prediction/"+flowID, map[string]string{"question": "hi"}, formFile{"big.txt", "text/plain", big})
	requireFlowiseError(t, status, body, 413, "larger than the limit")
	// Just under the limit is fine.
	status, body = h.doMultipart("/api/v1/attachments/"+flowID+"/c1", nil, formFile{"ok.txt", "text/plain", big[:512<<10]})
	require.Equal(t, 200, status, "%s", body)
}

// TestS3OutageFailsUploadsCleanly stops the S3 server: a prediction with a file is refused
// quickly with a clear error and saves nothing; one without files still works.
func TestS3OutageFailsUploadsCleanly(t *testing.T) {
	srv, h, flowID := s3Harness(t, "outage")
	upload := []map[string]any{{"type": "file", "name": "a.txt", "mime": "text/plain", "data": dataURI("text/plain", []byte("hello"))}}
	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "before", "chatId": "c1", "uploads": upload}, 200, nil)

	srv.Stop()
	start := time.Now()
	status, body := h.do("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "during", "chatId": "c2", "uploads": upload})
	requireFlowiseError(t, status, body, 503, "File storage is unavailable")
	require.Less(t, time.Since(start), 15*time.Second)
	status, body = h.doMultipart("/api/v1/attachments/"+flowID+"/c3", nil, formFile{"b.txt", "text/plain", []byte("b")})
	requireFlowiseError(t, status, body, 503, "File storage is unavailable")

	h.doJSON("POST", "/api/v1/prediction/"+flowID, map[string]any{"question": "no files", "chatId": "c4"}, 200, nil)
	var msgs []models.ChatMessage
	h.doJSON("GET", "/api/v1/chatmessage/"+flowID, nil, 200, &msgs)
	var questions []string
	for _, m := range msgs {
		if m.Role == models.RoleUser {
			questions = append(questions, m.Content)
		}
	}
	require.ElementsMatch(t, []string{"before", "no files"}, questions, "the refused turn left no message")

	// Storage is not part of readiness: replicas keep serving the predictions that need none.
	resp, err := httpClient.Get(h.base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
