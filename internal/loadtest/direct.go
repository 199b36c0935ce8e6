package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/flowgate/flowgate/activities"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// The direct baseline is the matrix's measure of what durability costs: the benchmark flow's
// nodes, the very functions a worker registers as activities, called one after another in
// plan order by a plain HTTP handler, and the turn saved to SQLite the same way, in one
// process: roughly the work Flowise does for a prediction. There is no workflow, no history,
// no retry and no resend rule: a crash loses the prediction. It serves only
// POST /api/v1/prediction/{id} (JSON, any id) for plans of plain nodes, which the benchmark
// flow is; it is not a way to run Flowgate.

// directLine is what `flowgate bench direct` prints once it accepts predictions.
var directLine = regexp.MustCompile(`Flowgate direct baseline: http://127\.0\.0\.1:(\d+)`)

// ServeDirect runs the direct baseline on addr with its state in dir, the benchmark flow's
// model at modelURL, until ctx ends. It prints directLine to out once it listens.
func ServeDirect(ctx context.Context, addr, dir, modelURL string, out io.Writer) error {
	db, err := models.Open(ctx, models.DBConfig{Type: "sqlite", Path: dir})
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	store := models.NewStore(db)
	var key [32]byte
	_, _ = rand.Read(key[:])
	cipher := secrets.NewCipher(secrets.NewKey(hex.EncodeToString(key[:]), "bench"))
	sealed, err := cipher.Encrypt(map[string]any{"openAIApiKey": "sk-bench"})
	if err != nil {
		return fmt.Errorf("seal the benchmark credential: %w", err)
	}
	cred := &models.Credential{ID: uuid.NewString(), Name: "bench-openai", CredentialName: "openAIApi", EncryptedData: sealed}
	if err := store.CreateCredential(ctx, cred); err != nil {
		return err
	}
	flowData, err := LLMChainFlow(modelURL, cred.ID)
	if err != nil {
		return err
	}
	plan, err := node.ChatflowPlan(flowData)
	if err != nil {
		return fmt.Errorf("compile the benchmark flow: %w", err)
	}
	reg := registry{}
	deps := &activities.Deps{Store: store, Cipher: cipher, Stream: stream.NewLocal(), Logger: slog.New(slog.DiscardHandler),
		HTTP: &http.Client{Timeout: time.Minute}}
	if err := activities.Register(reg, deps); err != nil {
		return err
	}
	d, err := newDirect(*plan, reg)
	if err != nil {
		return err
	}

	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/prediction/{id}", d.predict)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "Flowgate direct baseline: http://%s\n", l.Addr())
	stop := context.AfterFunc(ctx, func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	})
	defer stop()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// registry keeps the functions activities.Register binds, by activity name.
type registry map[string]any

func (r registry) RegisterActivity(any) { panic("every activity is registered under its name") }
func (r registry) RegisterActivityWithOptions(fn any, o activity.RegisterOptions) {
	r[o.Name] = fn
}
func (r registry) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {
	panic("no dynamic activities")
}

var _ worker.ActivityRegistry = registry{}

// nodeFunc is the shape of a chatflow node's activity.
type nodeFunc = func(context.Context, node.Request) (node.Value, error)

// direct runs one plan's nodes in order.
type direct struct {
	plan  chatflow.Plan
	nodes []nodeFunc // one per step
	save  func(context.Context, node.SaveMessagesRequest) error
}

func newDirect(plan chatflow.Plan, reg registry) (*direct, error) {
	d := &direct{plan: plan}
	for _, step := range plan.Steps {
		kind := step.Node.Data.Name
		if step.Deferred || len(step.SkipWhen) > 0 || node.IsAgent(kind) || node.Is(kind, node.Tool, node.FlowTool) {
			return nil, fmt.Errorf("the direct baseline runs plans of plain nodes; %s is not one", step)
		}
		fn, ok := reg[node.ActivityName(kind)].(nodeFunc)
		if !ok {
			return nil, fmt.Errorf("no activity runs %s", step)
		}
		d.nodes = append(d.nodes, fn)
	}
	var ok bool
	if d.save, ok = reg[node.SaveMessagesActivity].(func(context.Context, node.SaveMessagesRequest) error); !ok {
		return nil, errors.New("no activity saves a turn")
	}
	return d, nil
}

func (d *direct) predict(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Question string `json:"question"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil || body.Question == "" {
		http.Error(w, `{"message":"a question is required"}`, http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
	defer cancel()
	chatID := uuid.NewString()
	run := node.Run{ChatflowID: r.PathValue("id"), ChatID: chatID, SessionID: chatID, Question: body.Question}
	userAt := time.Now()
	results := make(map[string]node.Value, len(d.plan.Steps))
	for i, step := range d.plan.Steps {
		req := node.Request{Node: step.Node, Run: run, Ending: d.plan.IsEnding(step.Node.ID),
			Upstream: node.Upstream(step.Needs, results)}
		out, err := d.nodes[i](ctx, req)
		if err != nil {
			http.Error(w, fmt.Sprintf(`{"message":%q}`, step.String()+": "+err.Error()), http.StatusInternalServerError)
			return
		}
		results[step.Node.ID] = out
	}
	answer := results[d.plan.Ending].Text
	if answer == nil {
		http.Error(w, `{"message":"the ending node produced no answer"}`, http.StatusInternalServerError)
		return
	}
	save := node.SaveMessagesRequest{ChatflowID: run.ChatflowID, ChatID: chatID, SessionID: chatID,
		UserMessageID: uuid.NewString(), APIMessageID: uuid.NewString(), Question: body.Question, Answer: *answer,
		UserAt: userAt.UnixMilli(), APIAt: max(time.Now().UnixMilli(), userAt.UnixMilli()+1), ChatType: "EXTERNAL"}
	if err := d.save(ctx, save); err != nil {
		http.Error(w, fmt.Sprintf(`{"message":%q}`, err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"text": *answer, "question": body.Question, "chatId": chatID,
		"chatMessageId": save.APIMessageID, "sessionId": chatID})
}
