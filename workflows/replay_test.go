package workflows_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/flowgate/flowgate/workflows"
	"github.com/flowgate/flowgate/workflows/node"
)

// historyFiles are histories recorded from real runs (see e2e TestRecordHistories).
func historyFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.history.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata")
	return files
}

// replay replays a history with fn as the prediction workflow (and the real agentflow one),
// through the given worker interceptors.
func replay(t *testing.T, fn any, file string, interceptors ...interceptor.WorkerInterceptor) error {
	t.Helper()
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: interceptors})
	require.NoError(t, err)
	r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: node.PredictionWorkflow})
	r.RegisterWorkflowWithOptions(workflows.Agentflow, workflow.RegisterOptions{Name: node.AgentflowWorkflow})
	r.RegisterWorkflowWithOptions(workflows.Iteration, workflow.RegisterOptions{Name: node.IterationWorkflow})
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	// Child workflow ids derive from the run's own id, which the history does not hold: the
	// recorder keeps it next to the history.
	var opts worker.ReplayWorkflowHistoryOptions
	if id, err := os.ReadFile(strings.TrimSuffix(file, ".history.json") + ".workflow-id"); err == nil {
		opts.OriginalExecution = workflow.Execution{ID: strings.TrimSpace(string(id))}
	}
	return r.ReplayWorkflowHistoryWithOptions(nil, hist, opts)
}

// TestReplayRecordedHistories fails when a change to Prediction would break runs that are in
// flight when a new worker version is deployed.
func TestReplayRecordedHistories(t *testing.T) {
	for _, file := range historyFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			require.NoError(t, replay(t, workflows.Prediction, file))
		})
	}
}

// TestReplayWithTracing: the OpenTelemetry tracing interceptor a worker runs with when traces
// are on adds no command to a run, so the recorded histories replay through it. The test
// checks the interceptor did run: each history's workflow went through it and it made the
// run's span (the replayer runs a history's last task as new, as a live worker does).
func TestReplayWithTracing(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("replay")
	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tracer})
	require.NoError(t, err)
	for _, file := range historyFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			seen := &seenWorkflows{Interceptor: tracing}
			before := len(spans.Ended())
			require.NoError(t, replay(t, workflows.Prediction, file, seen))
			require.Positive(t, seen.count, "the tracing interceptor saw no workflow")
			var runs []string
			for _, s := range spans.Ended()[before:] {
				if strings.HasPrefix(s.Name(), "RunWorkflow:") {
					runs = append(runs, s.Name())
				}
			}
			require.NotEmpty(t, runs, "no RunWorkflow span")
		})
	}
}

// seenWorkflows is an interceptor that counts the workflows it intercepts.
type seenWorkflows struct {
	interceptor.Interceptor
	count int
}

func (s *seenWorkflows) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	s.count++
	return s.Interceptor.InterceptWorkflow(ctx, next)
}

// reorderedPrediction is Prediction with its nodes run in reverse order: a change that must be
// caught as non-deterministic.
func reorderedPrediction(ctx workflow.Context, in workflows.PredictionInput) (workflows.PredictionResult, error) {
	steps := slices.Clone(in.Plan.Steps)
	slices.Reverse(steps)
	in.Plan.Steps = steps
	return workflows.Prediction(ctx, in)
}

// auditedPrediction schedules one extra activity before the first node.
func auditedPrediction(ctx workflow.Context, in workflows.PredictionInput) (workflows.PredictionResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteActivity(actx, node.ActivityName("audit"), in.Run).Get(ctx, nil); err != nil {
		return workflows.PredictionResult{}, err
	}
	return workflows.Prediction(ctx, in)
}

func TestReplayDetectsNonDeterministicChange(t *testing.T) {
	variants := map[string]any{"reordered": reorderedPrediction, "extraActivity": auditedPrediction}
	for _, file := range historyFiles(t) {
		if strings.HasPrefix(filepath.Base(file), "agentflow-") {
			continue // the variants change the prediction workflow only
		}
		for name, fn := range variants {
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				err := replay(t, fn, file)
				require.Error(t, err, "replay must reject a changed workflow")
				// TMPRL1100 is the SDK's code for a non-determinism error.
				require.Contains(t, err.Error(), "[TMPRL1100]")
				t.Log(err)
			})
		}
	}
}
