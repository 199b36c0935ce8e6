package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/loadtest"
)

const benchUsage = `usage:
  flowgate bench -flow <chatflow id> [flags]   load a running server (loopback unless -allow-remote)
  flowgate bench matrix [flags]                start Flowgate from this binary and measure the matrix
  flowgate bench soak [flags]                  start Flowgate and watch its memory over many predictions
  flowgate bench up [flags]                    start Flowgate, a mock model and the benchmark chatflow,
                                               print their coordinates and wait (for artillery etc.)
  flowgate bench direct -model <url> [flags]   serve the benchmark flow's nodes without Temporal: the
                                               matrix's direct rows (what durability costs)

See docs/load-testing.md. Flags of each: flowgate bench [matrix|soak|up] -h`

// bench runs `flowgate bench …`. The first Ctrl-C stops the load and cleans up (servers it
// started are stopped, its database dropped); a second one ends the benchmark at once, and the
// servers it started die with it.
func bench(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := benchCommand(ctx, args)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func benchCommand(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "matrix":
			return benchMatrix(ctx, args[1:])
		case "soak":
			return benchSoak(ctx, args[1:])
		case "up":
			return benchUp(ctx, args[1:])
		case "direct":
			return benchDirect(ctx, args[1:])
		case "help":
			fmt.Println(benchUsage)
			return nil
		}
	}
	return benchPoint(ctx, args)
}

// benchPoint loads an existing server at one setting.
func benchPoint(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flowgate bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), benchUsage+"\n\nflags:")
		fs.PrintDefaults()
	}
	var o loadtest.Options
	var warmup, pids string
	var jsonOut jsonFlag
	fs.StringVar(&o.Target, "target", "http://127.0.0.1:3000", "server base URL")
	fs.StringVar(&o.FlowID, "flow", "", "chatflow id to predict (required)")
	fs.StringVar(&o.APIKey, "key", "", "API key, sent as Authorization: Bearer (for chatflows bound to a key)")
	fs.StringVar(&o.Question, "q", loadtest.DefaultQuestion, "question")
	fs.IntVar(&o.Concurrency, "c", 10, "concurrent clients (closed model); with -rate, the in-flight cap (1000 when not given)")
	fs.Float64Var(&o.Rate, "rate", 0, "fixed arrival rate in requests/s (open model)")
	fs.DurationVar(&o.Duration, "d", 0, "measured duration (default 20s when -n is not given either)")
	fs.IntVar(&o.Count, "n", 0, "measured requests; with -d, whichever ends first")
	fs.StringVar(&warmup, "warmup", "0", "warm-up before measuring, left out of the figures: a duration (5s) or a request count (100)")
	fs.BoolVar(&o.Streaming, "stream", false, "stream (SSE) and measure time to first and last token")
	fs.DurationVar(&o.Timeout, "timeout", loadtest.DefaultTimeout, "per-request timeout")
	fs.StringVar(&pids, "pid", "", "comma-separated server process ids to sample CPU and memory of (summed)")
	fs.Var(&jsonOut, "json", "print the report as JSON instead of text; -json=FILE writes it to FILE as well as the text")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.BoolVar(&o.SameChat, "same-chat", false, "send every request in one chat (Flowgate then runs them one at a time)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Duration == 0 && o.Count == 0 {
		o.Duration = 20 * time.Second
	}
	if o.Rate > 0 {
		// With a rate, -c is the in-flight cap, and only when given: its default of 10 would
		// drop most requests of a slow server.
		capSet := false
		fs.Visit(func(f *flag.Flag) { capSet = capSet || f.Name == "c" })
		if capSet {
			o.MaxInFlight = o.Concurrency
		}
		o.Concurrency = 0
	}
	var err error
	if o.WarmupCount, o.WarmupDuration, err = parseWarmup(warmup); err != nil {
		return err
	}
	if o.PIDs, err = parsePIDs(pids); err != nil {
		return err
	}
	rep, runErr := loadtest.Run(ctx, o)
	if rep == nil {
		return runErr
	}
	if jsonOut != stdoutJSON {
		if err := rep.WriteText(os.Stdout); err != nil {
			return err
		}
	}
	return errors.Join(runErr, jsonOut.write(rep.WriteJSON))
}

// benchMatrix starts Flowgate from this binary and measures every matrix row.
func benchMatrix(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flowgate bench matrix", flag.ContinueOnError)
	var rows, pg, pgUser string
	var jsonOut jsonFlag
	o := loadtest.MatrixOptions{Version: app.Version}
	fs.DurationVar(&o.Duration, "d", 20*time.Second, "measured duration of each row")
	fs.DurationVar(&o.Warmup, "warmup", 5*time.Second, "warm-up before each row, left out of its figures")
	fs.DurationVar(&o.Timeout, "timeout", loadtest.DefaultTimeout, "per-request timeout")
	fs.StringVar(&rows, "rows", "", "rows to run, by number or id, comma-separated (default all): "+pointIDs())
	fs.Var(&jsonOut, "json", "print the results as JSON instead of the table; -json=FILE writes them to FILE as well as the table")
	fs.StringVar(&pg, "pg", "127.0.0.1:5432", "PostgreSQL for queue mode (trust auth; a fresh database is made and dropped)")
	fs.StringVar(&pgUser, "pg-user", loadtest.LocalPostgres.User, "PostgreSQL user")
	fs.BoolVar(&o.Deploy.Keep, "keep", false, "keep the servers' data directories and logs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if o.Points, err = loadtest.SelectPoints(rows); err != nil {
		return err
	}
	if o.Deploy, err = deployOptions(o.Deploy.Keep, pg); err != nil {
		return err
	}
	o.Deploy.Postgres.User = pgUser
	if o.Duration <= 0 {
		return errors.New("-d must be positive")
	}
	run, runErr := loadtest.RunMatrix(ctx, o)
	if run == nil {
		return runErr
	}
	if jsonOut != stdoutJSON {
		fmt.Println()
		if err := run.WriteMarkdown(os.Stdout); err != nil {
			return err
		}
	}
	failed := 0
	for _, r := range run.Results {
		if r.Error != "" {
			failed++
		}
	}
	if failed > 0 && runErr == nil {
		runErr = fmt.Errorf("%d of %d rows failed", failed, len(run.Results))
	}
	return errors.Join(runErr, jsonOut.write(func(w io.Writer) error { return encodeJSON(w, run) }))
}

// benchSoak watches one-process Flowgate's memory over many predictions.
func benchSoak(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flowgate bench soak", flag.ContinueOnError)
	var jsonOut jsonFlag
	var keep bool
	o := loadtest.SoakOptions{Out: os.Stdout}
	fs.IntVar(&o.Total, "n", 20000, "predictions in all")
	fs.IntVar(&o.Step, "step", 1000, "predictions between memory readings")
	fs.IntVar(&o.Concurrency, "c", 50, "concurrent clients")
	fs.DurationVar(&o.Timeout, "timeout", loadtest.DefaultTimeout, "per-request timeout")
	fs.Float64Var(&o.MaxRSSMB, "max-rss", 300, "target: resident memory at the end below this many MB")
	fs.Float64Var(&o.FlatMB, "flat", 10, "target: growth over the second half (least-squares line) below this many MB")
	fs.Var(&jsonOut, "json", "also print the result as JSON; -json=FILE writes it to FILE")
	fs.BoolVar(&keep, "keep", false, "keep the server's data directory and log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if o.Deploy, err = deployOptions(keep, ""); err != nil {
		return err
	}
	res, err := loadtest.RunSoak(ctx, o)
	if res == nil || err != nil {
		return err
	}
	fmt.Println(res.Verdict)
	if err := jsonOut.write(func(w io.Writer) error { return encodeJSON(w, res) }); err != nil {
		return err
	}
	if !res.Pass {
		return errors.New("the memory target was missed")
	}
	return nil
}

// benchUp starts what the matrix measures and leaves it running for another load tool.
func benchUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("flowgate bench up", flag.ContinueOnError)
	var queue, keep bool
	var delay time.Duration
	var pg string
	fs.BoolVar(&queue, "queue", false, "queue mode (Temporal, 2 API replicas behind a balancer, 2 workers, PostgreSQL) instead of one process")
	fs.DurationVar(&delay, "delay", 0, "the mock model's delay before it answers")
	fs.StringVar(&pg, "pg", "127.0.0.1:5432", "PostgreSQL for queue mode (trust auth; a fresh database is made and dropped)")
	fs.BoolVar(&keep, "keep", false, "keep the servers' data directories and logs")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	o, err := deployOptions(keep, pg)
	if err != nil {
		return err
	}
	mode := loadtest.OneProcess
	if queue {
		mode = loadtest.QueueMode
	}
	st, err := loadtest.StartStack(ctx, mode, nil, o)
	if err != nil {
		return err
	}
	st.Mock.SetDelay(delay)
	pids := make([]string, len(st.PIDs))
	for i, p := range st.PIDs {
		pids[i] = strconv.Itoa(p)
	}
	fmt.Printf("export FLOWGATE_TARGET=%s FLOWGATE_CHATFLOW_ID=%s FLOWGATE_API_KEY=%s FLOWGATE_PIDS=%s\n",
		st.Target, st.FlowID, st.Key, strings.Join(pids, ","))
	fmt.Fprintf(os.Stderr, "%s Flowgate is up (mock model at %s, delay %s); Ctrl-C stops it\n", mode, st.Mock.URL, delay)
	<-ctx.Done()
	return st.Close()
}

// deployOptions starts servers from this very binary, so the figures are this build's.
func deployOptions(keep bool, pg string) (loadtest.DeployOptions, error) {
	bin, err := os.Executable()
	if err != nil {
		return loadtest.DeployOptions{}, fmt.Errorf("find the flowgate binary to start servers from: %w", err)
	}
	o := loadtest.DeployOptions{Bin: bin, Postgres: loadtest.LocalPostgres, Progress: os.Stderr, Keep: keep}
	if pg != "" {
		host, port, err := net.SplitHostPort(pg)
		if err != nil {
			return o, fmt.Errorf("-pg %q: want host:port: %w", pg, err)
		}
		if o.Postgres.Port, err = strconv.Atoi(port); err != nil {
			return o, fmt.Errorf("-pg %q: port: %w", pg, err)
		}
		o.Postgres.Host = host
	}
	return o, nil
}

// parseWarmup reads "5s" as a duration and "100" as a request count.
func parseWarmup(s string) (int, time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, 0, fmt.Errorf("-warmup %q: want a duration such as 5s or a request count such as 100", s)
	}
	return 0, d, nil
}

func parsePIDs(s string) ([]int, error) {
	var pids []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("-pid %q: want process ids separated by commas", s)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

func pointIDs() string {
	ids := make([]string, len(loadtest.MatrixPoints))
	for i, p := range loadtest.MatrixPoints {
		ids[i] = fmt.Sprintf("%d=%s", i+1, p.ID)
	}
	return strings.Join(ids, " ")
}

// jsonFlag is -json (JSON on stdout) or -json=FILE (JSON in FILE); unset, no JSON.
type jsonFlag string

const stdoutJSON jsonFlag = "-"

func (j *jsonFlag) String() string { return string(*j) }

// IsBoolFlag lets -json stand alone; a file needs -json=FILE.
func (j *jsonFlag) IsBoolFlag() bool { return true }

func (j *jsonFlag) Set(v string) error {
	switch v {
	case "true", "-":
		*j = stdoutJSON
	case "false", "":
		*j = ""
	default:
		*j = jsonFlag(v)
	}
	return nil
}

// write writes with write where the flag says.
func (j jsonFlag) write(write func(io.Writer) error) error {
	switch j {
	case "":
		return nil
	case stdoutJSON:
		return write(os.Stdout)
	}
	f, err := os.Create(string(j))
	if err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	return nil
}

// errHelp ends a command after -h, whose usage the flag package has printed.
var errHelp = errors.New("help shown")

// parseFlags parses args and refuses leftovers, the usual sign of "-json FILE" for
// "-json=FILE".
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (a JSON file is given as -json=FILE)", fs.Arg(0))
	}
	return nil
}

// benchDirect serves the direct baseline (loadtest.ServeDirect) until interrupted.
func benchDirect(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench direct", flag.ContinueOnError)
	var addr, model, dir string
	fs.StringVar(&addr, "addr", "127.0.0.1:0", "address to listen on")
	fs.StringVar(&model, "model", "", "the OpenAI-compatible model server the flow calls (its root URL)")
	fs.StringVar(&dir, "dir", "", "directory of its SQLite database (default: a new temporary one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if model == "" {
		return errors.New("bench direct: -model is required")
	}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "flowgate-direct-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	return loadtest.ServeDirect(ctx, addr, dir, model, os.Stdout)
}
