package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Lines flowgate prints when a process is ready.
var (
	apiLine      = regexp.MustCompile(`Flowgate API: http://(?:\[::\]|[^:/]+):(\d+)/api/v1`)
	temporalLine = regexp.MustCompile(`Temporal frontend: (\S+)`)
	workerLine   = regexp.MustCompile(`Flowgate worker health: (http://\S+)/healthz`)
)

// Deployment modes.
const (
	OneProcess = "one-process" // `flowgate start`: API, worker and embedded Temporal, SQLite
	QueueMode  = "queue"       // `flowgate temporal`, 2 API replicas, 2 workers, PostgreSQL
	// Direct is the baseline without durability: `flowgate bench direct` (see direct.go).
	Direct = "direct"
)

// Deployment is Flowgate started by the benchmark from its own binary, with fresh state.
type Deployment struct {
	Mode   string
	Target string // where the load goes: the API, or the balancer in front of the replicas
	Key    string // the DefaultKey the first API process made
	PIDs   []int  // every Flowgate process, for the resource figures
	Dir    string // data directories and process logs

	procs    []*Process // in start order
	lb       *Balancer
	pg       Postgres
	database string
	progress io.Writer
	keep     bool
}

// DeployOptions says how to start a Deployment.
type DeployOptions struct {
	Bin      string    // the flowgate binary (os.Executable for `flowgate bench`)
	Postgres Postgres  // queue mode's database server
	Progress io.Writer // one line per step; nil for none
	// Keep leaves the data directory and the process logs in place after Close.
	Keep bool
	// ModelURL is the model the Direct baseline's flow calls (the other modes are set up
	// through their API after they start).
	ModelURL string
}

// passThrough are settings of the benchmark's own environment that reach the servers, for
// trying runtime settings; everything else is set here so that a developer's .env cannot
// change what is measured.
var passThrough = []string{"TMPDIR", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG", "LOG_LEVEL", "FLOWGATE_PPROF_ADDR"}

func baseEnv(home string) []string {
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	for _, k := range passThrough {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Deploy starts Flowgate in mode.
func Deploy(ctx context.Context, mode string, o DeployOptions) (*Deployment, error) {
	dir, err := os.MkdirTemp("", "flowgate-bench-")
	if err != nil {
		return nil, fmt.Errorf("create the benchmark's data directory: %w", err)
	}
	d := &Deployment{Mode: mode, Dir: dir, pg: o.Postgres, progress: o.Progress, keep: o.Keep}
	if d.progress == nil {
		d.progress = io.Discard
	}
	switch mode {
	case OneProcess:
		err = d.startOneProcess(ctx, o.Bin)
	case QueueMode:
		err = d.startQueue(ctx, o.Bin)
	case Direct:
		err = d.startDirect(ctx, o.Bin, o.ModelURL)
	default:
		err = fmt.Errorf("unknown deployment mode %q", mode)
	}
	if err != nil {
		return nil, errors.Join(err, d.Close())
	}
	return d, nil
}

func (d *Deployment) start(ctx context.Context, name, bin, command string, env []string, ready *regexp.Regexp, args ...string) (*Process, error) {
	fmt.Fprintf(d.progress, "starting %s (flowgate %s)\n", name, command)
	p, err := StartProcess(ctx, ProcessSpec{
		Name: name, Bin: bin, Args: append(strings.Fields(command), args...), Env: env, Ready: ready,
		LogPath: filepath.Join(d.Dir, name+".log"),
	})
	if err != nil {
		return nil, err
	}
	d.procs = append(d.procs, p)
	d.PIDs = append(d.PIDs, p.PID())
	return p, nil
}

// startOneProcess runs `flowgate start` with nothing but a fresh data directory and free
// ports: what a user gets on a fresh machine.
func (d *Deployment) startOneProcess(ctx context.Context, bin string) error {
	env := append(baseEnv(d.Dir), "FLOWGATE_DATA_DIR="+filepath.Join(d.Dir, "data"), "HOST=127.0.0.1", "PORT=0",
		"FLOWGATE_TEMPORAL_PORT=0", "FLOWGATE_TEMPORAL_UI_PORT=0")
	p, err := d.start(ctx, "flowgate", bin, "start", env, apiLine)
	if err != nil {
		return err
	}
	if p.Key == "" {
		return errors.New("flowgate start showed no DefaultKey on a fresh data directory")
	}
	d.Target, d.Key = "http://127.0.0.1:"+p.Match[1], p.Key
	return nil
}

// startDirect runs the direct baseline against the model at modelURL.
func (d *Deployment) startDirect(ctx context.Context, bin, modelURL string) error {
	p, err := d.start(ctx, "direct", bin, "bench direct", baseEnv(d.Dir), directLine, "-model", modelURL, "-dir", filepath.Join(d.Dir, "data"))
	if err != nil {
		return err
	}
	d.Target = "http://127.0.0.1:" + p.Match[1]
	return nil
}

// startQueue runs queue mode on this machine, every tier its own process: the embedded
// Temporal server alone, two API replicas behind a round-robin balancer and two workers, all on
// a fresh PostgreSQL database.
func (d *Deployment) startQueue(ctx context.Context, bin string) error {
	name, err := d.pg.CreateDatabase(ctx)
	if err != nil {
		return err
	}
	d.database = name
	fmt.Fprintf(d.progress, "created PostgreSQL database %s\n", name)

	temporal, err := d.start(ctx, "temporal", bin, "temporal", append(baseEnv(d.Dir),
		"FLOWGATE_DATA_DIR="+filepath.Join(d.Dir, "temporal"), "FLOWGATE_TEMPORAL_PORT=0", "FLOWGATE_TEMPORAL_UI_PORT=0"),
		temporalLine)
	if err != nil {
		return err
	}
	// One data directory for the tier, so the replicas share the API key file (api.json).
	env := append(baseEnv(d.Dir), "FLOWGATE_DATA_DIR="+filepath.Join(d.Dir, "tier"), "HOST=127.0.0.1", "PORT=0",
		"WORKER_PORT=0", "MODE=queue", "TEMPORAL_ADDRESS="+temporal.Match[1], "QUEUE_NAME=bench-"+uuid.NewString()[:8],
		"DATABASE_TYPE=postgres", "DATABASE_HOST="+d.pg.Host, fmt.Sprintf("DATABASE_PORT=%d", d.pg.Port),
		"DATABASE_NAME="+name, "DATABASE_USER="+d.pg.User, "FLOWISE_SECRETKEY_OVERWRITE=bench-"+uuid.NewString(),
		"FLOWGATE_WORKER_STOP_TIMEOUT=5s")
	var backends []string
	for i := 1; i <= 2; i++ {
		// One after the other: the first makes the DefaultKey, the second finds it.
		p, err := d.start(ctx, fmt.Sprintf("api-%d", i), bin, "start", env, apiLine)
		if err != nil {
			return err
		}
		if p.Key != "" {
			d.Key = p.Key
		}
		backends = append(backends, "http://127.0.0.1:"+p.Match[1])
	}
	if d.Key == "" {
		return errors.New("the first API replica showed no DefaultKey on a fresh database")
	}
	for i := 1; i <= 2; i++ {
		if _, err := d.start(ctx, fmt.Sprintf("worker-%d", i), bin, "worker", env, workerLine); err != nil {
			return err
		}
	}
	if d.lb, err = StartBalancer(backends); err != nil {
		return err
	}
	d.Target = d.lb.URL
	return nil
}

// Close stops every process (API replicas and workers together, then the Temporal server they
// use), drops the database and removes the data directory. Every wait is bounded.
func (d *Deployment) Close() error {
	var errs []error
	if d.lb != nil {
		errs = append(errs, d.lb.Close())
	}
	var servers, temporal []*Process
	for _, p := range d.procs {
		if p.Name == "temporal" {
			temporal = append(temporal, p)
		} else {
			servers = append(servers, p)
		}
	}
	errs = append(errs, stopAll(servers, 30*time.Second)...)
	errs = append(errs, stopAll(temporal, 15*time.Second)...)
	if d.database != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		errs = append(errs, d.pg.DropDatabase(ctx, d.database))
		cancel()
	}
	if d.keep {
		fmt.Fprintf(d.progress, "kept data and logs in %s\n", d.Dir)
	} else if err := os.RemoveAll(d.Dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", d.Dir, err))
	}
	return errors.Join(errs...)
}

func stopAll(procs []*Process, grace time.Duration) []error {
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() { errs[i] = p.Stop(grace) })
	}
	wg.Wait()
	return errs
}
