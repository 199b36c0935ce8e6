// Command flowgate runs Flowise flows in production on Temporal.
//
//	flowgate start    API server; with MODE=main (default) also a worker, and with no
//	                  TEMPORAL_ADDRESS an embedded Temporal server with its Web UI
//	flowgate worker   the worker tier: runs flows from TEMPORAL_ADDRESS's task queue
//	flowgate temporal only the embedded Temporal dev server and its Web UI, for trying
//	                  queue mode on one machine
//	flowgate bench    load-test a server, or start one and measure the benchmark matrix
//	flowgate import   move a Flowise deployment or export file into Flowgate
//	flowgate check    which nodes of exported flows this version runs
//	flowgate version  print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flowgate/flowgate/internal/app"
	"github.com/flowgate/flowgate/internal/knowledge/extract"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

func main() {
	// The executable re-started to read one uploaded file under OS limits (see the extract
	// package) must do that and nothing else: no config, no logs, no servers.
	if extract.IsChild() {
		os.Exit(extract.ServeChild())
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "flowgate:", err)
		os.Exit(1)
	}
}

const usage = `usage: flowgate <command>

commands:
  start     run the API (and, with MODE=main, a worker and, without TEMPORAL_ADDRESS, an
            embedded Temporal server with its Web UI)
  worker    run the worker tier against TEMPORAL_ADDRESS (health on WORKER_PORT)
  apikey import <api.json>
            import a Flowise api.json into the key store (APIKEY_STORAGE_TYPE)
  import [--flowise-env FILE] [--flowise-set NAME=VALUE]... [--messages] [--dry-run]
  import --export-file FILE [--dry-run]
            move a Flowise deployment (its database and key, read only) or a Flowise export
            file into this Flowgate; see docs/migrating.md
  check <exported flow.json>...
            print, before any import, which nodes of each flow Flowgate runs and which it does
            not (exit status 1 when some do not)
  secrets rotate
            re-encrypt every credential under the current key (set FLOWGATE_SECRETKEY_PREVIOUS
            to the old key on every process first)
  temporal  run only the embedded Temporal dev server and its Web UI (FLOWGATE_TEMPORAL_PORT,
            FLOWGATE_TEMPORAL_UI_PORT, state in DATABASE_PATH/temporal.db)
  bench [matrix|soak|up] [flags]
            load-test a running server (bench -flow <id>), or start Flowgate from this binary
            and measure the benchmark matrix or a memory soak (docs/load-testing.md)
  version   print the version

Settings come from environment variables with Flowise's names; see README.md.`

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "bench":
		return bench(args[1:])
	case "check":
		return check(args[1:], os.Stdout)
	}
	commands := map[string]func(context.Context, config.Config, *slog.Logger) error{
		"start": start, "worker": worker, "temporal": temporalOnly,
	}
	if args[0] == "apikey" {
		if len(args) != 3 || args[1] != "import" {
			return errors.New("usage: flowgate apikey import <path to Flowise api.json>")
		}
		path := args[2]
		commands["apikey"] = func(ctx context.Context, cfg config.Config, _ *slog.Logger) error {
			n, err := app.ImportAPIKeys(ctx, cfg, path)
			if err != nil {
				return err
			}
			fmt.Printf("imported %d API keys into the %s store\n", n, cfg.APIKeyStorageType)
			return nil
		}
	}
	if args[0] == "import" {
		cmd, err := importCommand(args[1:], os.Stdout)
		if err != nil {
			return err
		}
		commands["import"] = cmd
	}
	if args[0] == "secrets" {
		if len(args) != 2 || args[1] != "rotate" {
			return errors.New("usage: flowgate secrets rotate")
		}
		commands["secrets"] = rotate
	}
	if cmd, ok := commands[args[0]]; ok {
		cfg, err := config.Load(os.Getenv)
		if err != nil {
			return err
		}
		// Ctrl-C and SIGTERM end ctx; each command then shuts down within its deadline.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		log, closeLog, err := app.NewLogger(ctx, cfg, os.Stdout)
		if err != nil {
			return err
		}
		// Older versions left the data readable by the group (0750, 0644). What cannot be
		// tightened (a key file mounted read-only) is worth a warning, not a refusal to start.
		if err := fsperm.Tighten(cfg.PrivatePaths()...); err != nil {
			log.Warn("some data files stay readable by other users", "error", err)
		}
		servePprof(log)
		err = cmd(ctx, cfg, log)
		// The last segment of the log is shipped on the way out, within a deadline.
		flushCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return errors.Join(err, closeLog(flushCtx))
	}
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Println(app.Version)
		return nil
	case "help", "--help", "-h":
		fmt.Println(usage)
		return nil
	default:
		fmt.Fprintln(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func start(ctx context.Context, cfg config.Config, log *slog.Logger) error {

	if cfg.TemporalAddress == "" {
		if cfg.Mode == config.ModeQueue {
			return errors.New("MODE=queue needs TEMPORAL_ADDRESS: workers in other processes cannot reach an embedded server")
		}
		dev, err := startEmbedded(cfg, log)
		if err != nil {
			return fmt.Errorf("start embedded Temporal server (set TEMPORAL_ADDRESS to use an existing one): %w", err)
		}
		defer dev.Stop()
		cfg.TemporalAddress = dev.FrontendAddress()
		cfg.SearchAttributes = true
	}

	a, err := app.Start(ctx, cfg, app.Options{API: true, Worker: cfg.Mode == config.ModeMain}, log)
	if err != nil {
		return err
	}
	log.Info("flowgate started", "api", "http://"+a.Addr(), "mode", cfg.Mode, "temporal", cfg.TemporalAddress,
		"namespace", cfg.TemporalNamespace, "taskQueue", cfg.QueueName)
	if key := a.DefaultKey(); key != "" {
		fmt.Printf("API key DefaultKey (shown once, keep it): %s\n", key)
	}
	fmt.Printf("Flowgate API: http://%s/api/v1\n", a.Addr())
	return serveUntilSignal(ctx, a, log)
}

// rotate re-encrypts every credential under the current key. Run it after every process has
// the new key and FLOWGATE_SECRETKEY_PREVIOUS set to the old one; then drop the old key.
func rotate(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	rep, err := app.RotateKeys(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Printf("re-encrypted %d, already current %d, edited meanwhile %d, undecryptable %d\n",
		rep.Reencrypted, rep.Current, rep.Changed, rep.Failed)
	if rep.Failed > 0 || rep.Changed > 0 {
		return fmt.Errorf("%d credentials were not re-encrypted; run it again (edited rows) or fix the keys", rep.Failed+rep.Changed)
	}
	return nil
}

// embeddedServer is the embedded Temporal server, when the binary carries one.
type embeddedServer interface {
	FrontendAddress() string
	Stop()
}

// worker runs the worker tier: workflows and node activities, and only a health endpoint.
func worker(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.TemporalAddress == "" {
		return errors.New("flowgate worker needs TEMPORAL_ADDRESS: the Temporal frontend that the API servers use")
	}
	a, err := app.Start(ctx, cfg, app.Options{Worker: true}, log)
	if err != nil {
		return err
	}
	log.Info("flowgate worker started", "health", "http://"+a.Addr()+"/healthz", "temporal", cfg.TemporalAddress,
		"namespace", cfg.TemporalNamespace, "taskQueue", cfg.QueueName, "concurrency", cfg.WorkerConcurrency)
	fmt.Printf("Flowgate worker health: http://%s/healthz\n", a.Addr())
	return serveUntilSignal(ctx, a, log)
}

// serveUntilSignal waits for Ctrl-C or SIGTERM, or for the process to fail, then shuts down
// within a deadline.
func serveUntilSignal(ctx context.Context, a *app.App, log *slog.Logger) error {
	var failed error
	select {
	case <-ctx.Done():
	case failed = <-a.Err():
		log.Error("stopping", "error", failed)
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(failed, a.Shutdown(shutdownCtx))
}
