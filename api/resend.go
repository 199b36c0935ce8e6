package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"

	"github.com/flowgate/flowgate/workflows/node"
)

// A resent prediction attaches to its run. When an API replica dies with requests in flight,
// or a connection drops, a client or load balancer that sends the same request again must get
// the answer of the run the first one started: a second run would answer twice and store the
// turn twice.
//
// The rule, for the chat's current run (one run at a time per chat):
//   - the same request (its Idempotency-Key, scoped to the chat, or else a fingerprint of
//     chatflow, chat, question, uploads, overrides, history, form) attaches to the run while it
//     is running, and after it completed: within ResendWindow, or at any time for an
//     Idempotency-Key, as long as it is the chat's current run;
//   - a run that failed, timed out or was aborted is never attached to: the same request again
//     is a retry, a new turn;
//   - a different request on a busy chat gets 409;
//   - anything else is a new turn.
//
// Each run records the request's fingerprint and its event topic in its memo, where a resend
// finds them. A new turn's start request id (and topic) is derived from the request and the
// chat's previous run, so two copies of one request racing to start reach one run, which
// Temporal deduplicates by request id, and no two runs share a topic.

// requestIdentity names a prediction request across resends: a hash, so the memo that records
// it holds no part of the request.
type requestIdentity struct {
	fingerprint string
	explicit    bool // the client named it (Idempotency-Key), so no window applies
	// newChat: the request named no chat, and the one made up for it is new, so it has no
	// run to look for (one derived from an Idempotency-Key is not new).
	newChat bool
}

// requestIDSpace is the UUID namespace of start request ids.
var requestIDSpace = uuid.MustParse("0c6d1f1e-3f5a-4f0e-9b7e-6a8d2c4b1e53")

// identify names a request: by its Idempotency-Key within its chat, else by what it asks
// (files of a multipart request by name, type and size). A request that names no chat (no
// chatId, no sessionId) gets one first: derived from its Idempotency-Key, so that its resends
// reach the run it started, else new, so that it is a conversation of its own.
func identify(c *gin.Context, chatflowID string, body *predictionBody, files []*multipart.FileHeader) requestIdentity {
	key := c.GetHeader("Idempotency-Key")
	newChat := false
	if body.ChatID == "" && body.overrideSessionID() == "" {
		body.ChatID, newChat = uuid.NewString(), key == ""
		if key != "" {
			body.ChatID = uuid.NewSHA1(requestIDSpace, []byte("chat\x00"+chatflowID+"\x00"+key)).String()
		}
	}
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(chatflowID))
	// The chat, whichever field names it: one key reused by two conversations names two
	// requests, never one.
	chatID, _ := body.conversation()
	field([]byte(chatID))
	if key != "" {
		field([]byte("Idempotency-Key"))
		field([]byte(key))
		return requestIdentity{fingerprint: hex.EncodeToString(h.Sum(nil)), explicit: true}
	}
	field([]byte(body.Question))
	field([]byte(body.LeadEmail))
	field(body.OverrideConfig)
	field(body.Form)
	for _, fh := range files {
		field([]byte(fmt.Sprintf("%s\x00%s\x00%d", fh.Filename, fh.Header.Get("Content-Type"), fh.Size)))
	}
	for _, part := range []any{body.History, body.Uploads, body.HumanInput} {
		raw, _ := json.Marshal(part) // plain values: cannot fail
		field(raw)
	}
	return requestIdentity{fingerprint: hex.EncodeToString(h.Sum(nil)), newChat: newChat}
}

// requestID is the start request id of the request's run after the chat's run previous (""
// when the chat has none), and that run's event topic.
func (r requestIdentity) requestID(previous string) string {
	return uuid.NewSHA1(requestIDSpace, []byte(r.fingerprint+"\x00"+previous)).String()
}

// currentRun is what a new request needs to know of the chat's current run.
type currentRun struct {
	runID       string
	status      enumspb.WorkflowExecutionStatus
	started     time.Time
	closed      time.Time // zero while running
	fingerprint string    // of the request that started it; "" for runs older than the memo
	topic       string
}

func (r *currentRun) running() bool { return r.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING }

// resentTo reports whether a request with identity ident is a resend of the one that started
// the run, and gets its answer (see the rule above).
func (r *currentRun) resentTo(ident requestIdentity, window time.Duration, now time.Time) bool {
	if r.fingerprint == "" || r.fingerprint != ident.fingerprint || r.topic == "" {
		return false
	}
	switch r.status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return true
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return ident.explicit || now.Sub(r.closed) <= window
	}
	return false
}

// current describes the chat's current run; nil when the chat has none.
func (p *predictions) current(ctx context.Context, workflowID string) (*currentRun, error) {
	desc, err := p.temporal.DescribeWorkflowExecution(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe the chat's run: %w", err)
	}
	info := desc.GetWorkflowExecutionInfo()
	r := &currentRun{runID: info.GetExecution().GetRunId(), status: info.GetStatus(), started: info.GetStartTime().AsTime()}
	if t := info.GetCloseTime(); t != nil {
		r.closed = t.AsTime()
	}
	fields := info.GetMemo().GetFields()
	r.fingerprint = memoText(fields[node.MemoRequest])
	r.topic = memoText(fields[node.MemoTopic])
	return r, nil
}

// memoText decodes a memo string; "" when it is absent or not one.
func memoText(p *commonpb.Payload) string {
	var s string
	if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

type startRequestKey struct{}

// withStartRequest names the request id a workflow start in ctx sends (see DedupStarts).
func withStartRequest(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, startRequestKey{}, id)
}

// DedupStarts is a gRPC client interceptor for the Temporal client of API processes: a
// workflow start whose context names a request id sends it as the start's request id, on which
// Temporal deduplicates: two copies of one request racing to start reach one run.
func DedupStarts(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if id, ok := ctx.Value(startRequestKey{}).(string); ok {
		if start, ok := req.(*workflowservice.StartWorkflowExecutionRequest); ok {
			start.RequestId = id
		}
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}
