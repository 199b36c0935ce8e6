package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/testkit/llmmock"
)

// Point is one row of the benchmark matrix.
type Point struct {
	ID          string        `json:"id"`
	Mode        string        `json:"mode"`
	Delay       time.Duration `json:"-"`
	Concurrency int           `json:"concurrency"`
	Streaming   bool          `json:"streaming"`
}

// MatrixPoints are the rows Flowgate's performance targets are stated in: the mock model's
// delay and the number of concurrent clients, in one-process and in queue mode.
var MatrixPoints = []Point{
	{ID: "c1", Mode: OneProcess, Concurrency: 1},
	{ID: "c50", Mode: OneProcess, Concurrency: 50},
	{ID: "delay200-c50", Mode: OneProcess, Delay: 200 * time.Millisecond, Concurrency: 50},
	{ID: "stream-c50", Mode: OneProcess, Concurrency: 50, Streaming: true},
	{ID: "queue-c1", Mode: QueueMode, Concurrency: 1},
	{ID: "queue-c50", Mode: QueueMode, Concurrency: 50},
	// The same nodes without Temporal: what durability costs, as a ratio to c1 and c50.
	{ID: "direct-c1", Mode: Direct, Concurrency: 1},
	{ID: "direct-c50", Mode: Direct, Concurrency: 50},
}

// SelectPoints picks matrix rows by id or by number (1-based), comma-separated; empty picks
// every row. The matrix's order is kept whatever the order asked.
func SelectPoints(filter string) ([]Point, error) {
	if strings.TrimSpace(filter) == "" {
		return slices.Clone(MatrixPoints), nil
	}
	want := map[int]bool{}
	for _, f := range strings.Split(filter, ",") {
		f = strings.TrimSpace(f)
		i := slices.IndexFunc(MatrixPoints, func(p Point) bool { return p.ID == f })
		if n, err := strconv.Atoi(f); err == nil && n >= 1 && n <= len(MatrixPoints) {
			i = n - 1
		}
		if i < 0 {
			ids := make([]string, len(MatrixPoints))
			for j, p := range MatrixPoints {
				ids[j] = p.ID
			}
			return nil, fmt.Errorf("no matrix row %q; rows are 1-%d or %s", f, len(MatrixPoints), strings.Join(ids, ", "))
		}
		want[i] = true
	}
	var out []Point
	for i, p := range MatrixPoints {
		if want[i] {
			out = append(out, p)
		}
	}
	return out, nil
}

// MatrixOptions configures RunMatrix.
type MatrixOptions struct {
	Deploy   DeployOptions
	Points   []Point
	Duration time.Duration // measured time per point
	Warmup   time.Duration // before each point, left out of its figures
	Timeout  time.Duration // per request
	Version  string        // the Flowgate version, for the table's heading
}

// MatrixResult is one measured row.
type MatrixResult struct {
	Point   Point   `json:"point"`
	DelayMS float64 `json:"mock_delay_ms"`
	Report  *Report `json:"report,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// MatrixRun is the whole matrix, as printed and as written to JSON.
type MatrixRun struct {
	Machine  Machine        `json:"machine"`
	Version  string         `json:"flowgate_version"`
	Started  time.Time      `json:"started"`
	Duration float64        `json:"duration_s"`
	Warmup   float64        `json:"warmup_s"`
	Results  []MatrixResult `json:"results"`
}

// RunMatrix starts an in-process mock model and, for each deployment mode with rows to run,
// a fresh Flowgate from o.Deploy.Bin; it sets the benchmark flow up through the API and
// measures each row in turn. A mode that cannot start (no PostgreSQL, say) fails its rows and
// the others still run; an ended ctx stops everything and returns what was measured.
func RunMatrix(ctx context.Context, o MatrixOptions) (*MatrixRun, error) {
	mock, err := llmmock.Start(llmmock.Options{MaxRecorded: -1})
	if err != nil {
		return nil, fmt.Errorf("start the mock model: %w", err)
	}
	defer mock.Close()
	run := &MatrixRun{Machine: DescribeMachine(), Version: o.Version, Started: time.Now(),
		Duration: o.Duration.Seconds(), Warmup: o.Warmup.Seconds()}
	progress := o.Deploy.Progress
	for _, mode := range []string{OneProcess, QueueMode, Direct} {
		var points []Point
		for _, p := range o.Points {
			if p.Mode == mode {
				points = append(points, p)
			}
		}
		if len(points) == 0 {
			continue
		}
		results, err := runMode(ctx, mode, points, mock, o)
		run.Results = append(run.Results, results...)
		if ctx.Err() != nil {
			return run, ctx.Err()
		}
		if err != nil && progress != nil {
			fmt.Fprintf(progress, "%s: %v\n", mode, err)
		}
	}
	return run, nil
}

// runMode measures points, all of one mode, on one deployment.
func runMode(ctx context.Context, mode string, points []Point, mock *llmmock.Server, o MatrixOptions) (results []MatrixResult, err error) {
	failAll := func(err error) ([]MatrixResult, error) {
		for _, p := range points {
			results = append(results, MatrixResult{Point: p, DelayMS: ms(p.Delay), Error: err.Error()})
		}
		return results, err
	}
	mock.SetDelay(0)
	st, err := StartStack(ctx, mode, mock, o.Deploy)
	if err != nil {
		return failAll(err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	for _, p := range points {
		mock.SetDelay(p.Delay)
		progressf(o.Deploy.Progress, "measuring %s: %s, mock delay %s, concurrency %d, streaming %t, %s after %s warm-up\n",
			p.ID, mode, p.Delay, p.Concurrency, p.Streaming, o.Duration, o.Warmup)
		rep, err := Run(ctx, Options{
			Target: st.Target, FlowID: st.FlowID, Concurrency: p.Concurrency, Streaming: p.Streaming,
			Duration: o.Duration, WarmupDuration: o.Warmup, Timeout: o.Timeout, PIDs: st.PIDs,
		})
		res := MatrixResult{Point: p, DelayMS: ms(p.Delay), Report: rep}
		if err != nil {
			res.Error = err.Error()
		}
		results = append(results, res)
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
	}
	return results, nil
}

func progressf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
