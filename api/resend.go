package api

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
)

// A resent prediction attaches to its run. When an API replica dies with requests in flight,
// or a connection drops, a client or load balancer that sends the same request again must get
// the answer of the run the first one started: a second run would answer twice and store the
// turn twice. Temporal deduplicates workflow starts by request id, for the run that currently
// holds the workflow id (one per chat), running or closed, so each start carries an id derived
// from the request: its Idempotency-Key header, or else a fingerprint of the request (chatflow,
// chat, question, uploads, overrides, history, form, human input). A request with a different
// fingerprint on a busy chat still gets 409. Without an Idempotency-Key, the same question
// asked again after the chat's run closed more than ResendWindow ago is a new turn.

// requestIdentity names a prediction request across resends.
type requestIdentity struct {
	key      string
	explicit bool // the client named it (Idempotency-Key), so no window applies
}

// requestIDSpace is the UUID namespace of start request ids.
var requestIDSpace = uuid.MustParse("0c6d1f1e-3f5a-4f0e-9b7e-6a8d2c4b1e53")

// identify names a request: by its Idempotency-Key, else by what it asks (files of a
// multipart request by name, type and size). A request that names no chat (no chatId, no
// sessionId) gets one first: derived from its Idempotency-Key, so that its resends reach the
// run it started, else new, so that it is a conversation of its own.
func identify(c *gin.Context, chatflowID string, body *predictionBody, files []*multipart.FileHeader) requestIdentity {
	key := c.GetHeader("Idempotency-Key")
	if body.ChatID == "" && body.overrideSessionID() == "" {
		body.ChatID = uuid.NewString()
		if key != "" {
			body.ChatID = uuid.NewSHA1(requestIDSpace, []byte("chat\x00"+chatflowID+"\x00"+key)).String()
		}
	}
	if key != "" {
		return requestIdentity{key: chatflowID + "\x00" + key, explicit: true}
	}
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(chatflowID))
	field([]byte(body.ChatID))
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
	return requestIdentity{key: hex.EncodeToString(h.Sum(nil))}
}

// requestID is the start request id of the identity, and the run's event topic, so that a
// resend finds the first run's events. salt tells apart a later repeat of the same question.
func (r requestIdentity) requestID(salt string) string {
	return uuid.NewSHA1(requestIDSpace, []byte(r.key+"\x00"+salt)).String()
}

// startRequest rides a workflow start's context to DedupStarts and back.
type startRequest struct {
	id     string
	status enumspb.WorkflowExecutionStatus // of the run the start answered with
}

type startRequestKey struct{}

func withStartRequest(ctx context.Context, s *startRequest) context.Context {
	return context.WithValue(ctx, startRequestKey{}, s)
}

// DedupStarts is a gRPC client interceptor for the Temporal client of API processes: a
// workflow start whose context names a request id sends it as the start's request id, which
// Temporal deduplicates on, and reports the status of the run the server answered with: a
// closed one means the start attached to a run that had already ended.
func DedupStarts(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	s, _ := ctx.Value(startRequestKey{}).(*startRequest)
	start, ok := req.(*workflowservice.StartWorkflowExecutionRequest)
	if s == nil || !ok {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	start.RequestId = s.id
	err := invoker(ctx, method, req, reply, cc, opts...)
	if resp, ok := reply.(*workflowservice.StartWorkflowExecutionResponse); ok && err == nil {
		s.status = resp.GetStatus()
	}
	return err
}

// stale reports whether a run that a start attached to closed more than window ago.
func (p *predictions) stale(ctx context.Context, workflowID, runID string) bool {
	desc, err := p.temporal.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return false // attach: the run exists, and its answer is what the caller asked for
	}
	closed := desc.GetWorkflowExecutionInfo().GetCloseTime()
	return closed != nil && time.Since(closed.AsTime()) > p.cfg.ResendWindow
}
