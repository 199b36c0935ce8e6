// Package app assembles a Flowgate process from its parts: database, encryption key, Temporal
// client, worker and HTTP API. cmd/flowgate decides what to start; app knows how.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver for the rate limit store
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"gorm.io/gorm"

	"github.com/flowgate/flowgate/activities"
	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/api"
	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/health"
	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/stream"
	"github.com/flowgate/flowgate/internal/platform/telemetry/otelsetup"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/internal/storage/offload"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows"
)

// Version is the Flowgate version reported by /api/v1/version.
var Version = "0.1.0"

// App is a running Flowgate process.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	db       *gorm.DB
	temporal client.Client
	worker   worker.Worker
	http     *http.Server
	listener net.Listener
	errs     chan error // the process can no longer serve
	closers  []func()
	listens  bool // reads streams: an API process
	// telemetry is the process's metrics and traces; nil when both are off.
	telemetry *otelsetup.Telemetry
	// defaultKey is the plaintext of the DefaultKey created at this start, if one was.
	defaultKey string
}

// DefaultKey is the API key this start created because there was none (shown once), or "".
func (a *App) DefaultKey() string { return a.defaultKey }

// keyStore is where API keys live: the json file of APIKEY_PATH, or the database, which every
// replica shares (the production choice).
func (a *App) keyStore() apikeys.Store {
	if a.cfg.APIKeyStorageType == "db" {
		return apikeys.NewDBStore(a.db)
	}
	return apikeys.NewJSONStore(a.cfg.APIKeyPath)
}

// ensureDefaultKey creates DefaultKey when no key exists, as Flowise does at first start, and
// returns its plaintext: the only time it is shown.
func ensureDefaultKey(ctx context.Context, keys apikeys.Store, log *slog.Logger) (string, error) {
	existing, err := keys.List(ctx)
	if err != nil {
		return "", fmt.Errorf("read API keys: %w", err)
	}
	if len(existing) > 0 {
		return "", nil
	}
	k, plaintext, err := keys.Create(ctx, "DefaultKey")
	if err != nil {
		return "", fmt.Errorf("create the default API key: %w", err)
	}
	log.Info("created the first API key; it is shown once, on standard output", "keyName", k.Name, "id", k.ID)
	return plaintext, nil
}

func (a *App) fail(err error) {
	select {
	case a.errs <- err:
	default:
	}
}

// Options choose which tiers this process runs.
type Options struct {
	API    bool // serve the HTTP API
	Worker bool // run workflows and activities
}

// Start opens every dependency and starts the requested tiers. On error, whatever was started
// is stopped again.
func Start(ctx context.Context, cfg config.Config, opts Options, log *slog.Logger) (_ *App, err error) {
	a := &App{cfg: cfg, log: log, listens: opts.API, errs: make(chan error, 2)}
	if cfg.Mode == config.ModeQueue && cfg.Database.Type != "postgres" {
		// Tokens and answers cross from workers to API processes through the database;
		// SQLite cannot be shared between machines.
		return nil, errors.New("MODE=queue needs DATABASE_TYPE=postgres: every API and worker process must share the database")
	}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.telemetry, err = otelsetup.New(ctx, cfg.Telemetry, Version, log); err != nil {
		return nil, err
	}
	// Closed after the worker, the Temporal client and every later part (closers run last
	// first), before the database: it sends the spans and metrics of all of them.
	a.closers = append(a.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.telemetry.Shutdown(ctx); err != nil {
			log.Warn("telemetry: last export failed", "error", err)
		}
	})
	if a.db, err = models.Open(ctx, cfg.Database); err != nil {
		return nil, err
	}
	store := models.NewStore(a.db)
	cipher, err := newCipher(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkKey(ctx, store, cipher, log); err != nil {
		return nil, err
	}
	files, err := storage.Open(ctx, cfg.Storage)
	if err != nil {
		return nil, err
	}
	if c, ok := files.(interface{ Close() error }); ok {
		a.closers = append(a.closers, func() { _ = c.Close() })
	}
	// Every process that starts or runs workflows needs the same codec: values too big for
	// history go to storage, and whoever reads the history fetches them back.
	// Each storage call is bounded inside the shortest workflow task timeout, a chatflow
	// prediction's (workflows.PredictionTaskTimeout, 6 s): a read that outlasted it would have
	// the task given to another worker, to read again.
	codec := &offload.Codec{Store: files, Threshold: cfg.LargeValueBytes, Timeout: 3 * time.Second}

	copts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    sdklog.NewStructuredLogger(log.With("component", "temporal-sdk")),
		// The codec reads and writes storage while a workflow task is decoded; that I/O may
		// take longer than the SDK's one-second deadlock detector allows workflow code.
		DataConverter: workflow.DataConverterWithoutDeadlockDetection(codec.DataConverter()),
		// A prediction's start carries an id derived from the request, so that a resent
		// request attaches to the run the first one started (api.DedupStarts).
		// A worker reports the workflow tasks it takes over from one that died
		// (nodekit.ReportTaskRetries).
		ConnectionOptions: client.ConnectionOptions{
			DialOptions:     []grpc.DialOption{grpc.WithChainUnaryInterceptor(api.DedupStarts, nodekit.ReportTaskRetries(log))},
			GrpcCompression: grpcCompression(cfg.TemporalAddress),
		},
	}
	// The SDK's metrics go to the process's registry; its tracing interceptor carries a
	// prediction's trace from the API's start to the worker's workflow and activities.
	a.telemetry.TemporalOptions(&copts)
	if opts.Worker {
		// A worker is useless without Temporal: fail at start, loudly.
		dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		a.temporal, err = client.DialContext(dialCtx, copts)
	} else {
		// An API process starts and answers 503 while Temporal is away, instead of
		// crash-looping; it connects on first use.
		a.temporal, err = client.NewLazyClient(copts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}

	broker, err := a.broker(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Worker {
		a.worker = worker.New(a.temporal, cfg.QueueName, worker.Options{
			// WORKER_CONCURRENCY bounds the nodes a worker runs at once, whether as regular
			// activities or inside workflow tasks (a chatflow's, as local activities).
			MaxConcurrentActivityExecutionSize:      cfg.WorkerConcurrency,
			MaxConcurrentLocalActivityExecutionSize: cfg.WorkerConcurrency,
			// A task reaches a worker at once only if one of its polls is waiting in matching
			// when the task arrives; otherwise matching writes it to the database and reads it
			// back. The SDK's default is two workflow pollers, one on the sticky queue, which a
			// chatflow's one workflow task never uses, and two activity pollers: in queue mode
			// at 50 clients the one normal-queue poll was away too often, and matching wrote
			// tasks down. More polls fix that (8 fixed: 139 predictions a second against 119);
			// pollers scaled by the server's decisions (tasks waiting, or arriving faster than
			// they are handed out) do as well or better (4 runs: 139-147 a second, 11.1-11.8 ms
			// of CPU each against 13.5) and fall back to one poll per queue when idle
			// (docs/benchmarks.md). Activities keep at least the default's two polls, so a
			// model call after a quiet spell finds one waiting. Setting a fixed
			// MaxConcurrent*TaskPollers beside these makes the SDK panic.
			WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{}),
			ActivityTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{MinimumNumberOfPollers: 2}),
			WorkerStopTimeout:          cfg.WorkerStopTimeout,
			// Heartbeats carry cancellation to a running model call and show the attempt
			// alive: send each as it comes (every second), so an abort stops the provider call
			// at once and a worker that dies is noticed within the heartbeat timeout.
			MaxHeartbeatThrottleInterval: nodekit.HeartbeatInterval,
			// A run's next workflow task goes first to the worker that ran its last one. When
			// that worker is dead, the task waits this long before any worker may take it:
			// short, so a crash costs seconds, yet far above the milliseconds a live worker
			// takes to pick a task up.
			StickyScheduleToStartTimeout: time.Second,
			// A worker that can no longer poll (say, its namespace is gone) must not linger
			// as a healthy-looking process: end it so the orchestrator restarts it.
			OnFatalError: func(err error) { a.fail(fmt.Errorf("worker stopped: %w", err)) },
		})
		workflows.Register(a.worker)
		err := activities.Register(a.worker, &activities.Deps{Store: store, Cipher: cipher, Stream: broker, Aborts: broker, Logger: log, Files: files,
			HTTP: cfg.HTTPPolicy.Client(nil, time.Minute), Metrics: a.telemetry.Recorder(), CaptureContent: a.telemetry.CaptureContent()})
		if err != nil {
			return nil, fmt.Errorf("register activities: %w", err)
		}
		if err := a.worker.Start(); err != nil {
			return nil, fmt.Errorf("start worker on task queue %s: %w", cfg.QueueName, err)
		}
	}
	ready := health.Ready(
		health.Check{Name: "database", Probe: func(ctx context.Context) error {
			sqlDB, err := a.db.DB()
			if err != nil {
				return err
			}
			return sqlDB.PingContext(ctx)
		}},
		health.Check{Name: "temporal", Probe: func(ctx context.Context) error {
			_, err := a.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
	)
	switch {
	case opts.API:
		keys := a.keyStore()
		if a.defaultKey, err = ensureDefaultKey(ctx, keys, log); err != nil {
			return nil, err
		}
		ip, err := ratelimit.NewIPResolver(cfg.NumberOfProxies, cfg.TrustProxy)
		if err != nil {
			return nil, fmt.Errorf("NUMBER_OF_PROXIES / TRUST_PROXY: %w", err)
		}
		if w := ip.Warning(); w != "" {
			log.Warn(w)
		}
		limiter, err := a.limiter(ctx)
		if err != nil {
			return nil, err
		}
		srv := api.New(api.Config{
			Version:              Version,
			TaskQueue:            cfg.QueueName,
			PredictionTimeout:    cfg.PredictionTimeout,
			ResendWindow:         cfg.ResendWindow,
			HumanInputTimeout:    cfg.HumanInputTimeout,
			BodyLimit:            cfg.FileSizeLimit,
			SearchAttributes:     cfg.SearchAttributes,
			Ready:                ready,
			ClientIP:             ip,
			Limiter:              limiter,
			RateLimitIPv6Prefix:  cfg.RateLimitIPv6Prefix,
			CORSOrigins:          cfg.CORSOrigins,
			CORSAllowCredentials: cfg.CORSAllowCredentials,
			FrameAncestors:       cfg.IframeOrigins,
		}, api.Deps{Store: store, Temporal: a.temporal, Broker: broker, Cipher: cipher, Keys: keys, Files: files,
			Converter: copts.DataConverter, Log: log,
			Metrics: a.telemetry.Recorder(), Tracer: a.telemetry.Tracer(), Scrape: a.telemetry.ScrapeHandler()})
		err = a.serve(cfg.Addr(), srv.Handler())
	case opts.Worker:
		// The worker tier serves only its probes, on WORKER_PORT as Flowise workers do, and its
		// own series (the nodes it ran, the Temporal SDK's worker metrics) for Prometheus to
		// scrape: keep the port private, as it asks for no key.
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", health.Live)
		mux.HandleFunc("GET /readyz", ready)
		if scrape := a.telemetry.ScrapeHandler(); scrape != nil {
			mux.Handle("GET /metrics", scrape)
		}
		err = a.serve(fmt.Sprintf("%s:%d", cfg.Host, cfg.WorkerPort), mux)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) serve(addr string, h http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	a.listener = l
	a.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.http.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			a.fail(fmt.Errorf("HTTP server: %w", err))
		}
	}()
	return nil
}

// broker picks how streamed tokens travel. With SQLite there is one process, and tokens go
// straight from the worker to the API in memory. With PostgreSQL several processes may run
// nodes, so tokens go through the database every one of them shares.
func (a *App) broker(ctx context.Context) (stream.Broker, error) {
	if a.cfg.Database.Type != "postgres" {
		return stream.NewLocal(), nil
	}
	pg, err := stream.NewPostgres(ctx, models.PostgresDSN(a.cfg.Database), a.listens, a.log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, pg.Close)
	return pg, nil
}

// limiter counts requests against chatflows' rate limits: in this process's memory, or in
// PostgreSQL so that all API replicas together allow limitMax per window. The shared store
// gets its own small pool, so a busy API cannot starve the limiter of connections (a Take
// that waits past its deadline fails open or closed, per FLOWGATE_RATE_LIMIT_FAIL_OPEN).
func (a *App) limiter(ctx context.Context) (*ratelimit.Limiter, error) {
	lc := ratelimit.DefaultConfig()
	lc.FailOpen = a.cfg.RateLimitFailOpen
	if a.cfg.RateLimitStore == "postgres" {
		db, err := sql.Open("pgx", models.PostgresDSN(a.cfg.Database))
		if err != nil {
			return nil, fmt.Errorf("open rate limit store: %w", err)
		}
		db.SetMaxOpenConns(4)
		a.closers = append(a.closers, func() { _ = db.Close() })
		if err := ratelimit.Migrate(ctx, db); err != nil {
			return nil, err
		}
		pg := ratelimit.NewPostgres(db)
		a.closers = append(a.closers, pg.Close)
		lc.Stores = pg.Store
	}
	l := ratelimit.New(lc)
	a.closers = append(a.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Close(ctx)
	})
	return l, nil
}

// Addr is the address this process serves HTTP on: the API, or a worker's probes.
func (a *App) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Temporal is the process's Temporal client.
func (a *App) Temporal() client.Client { return a.temporal }

// Err reports a process that stopped serving by itself: its HTTP server or its worker.
func (a *App) Err() <-chan error { return a.errs }

// Shutdown stops accepting requests, lets open ones finish until ctx ends, stops the worker
// (running activities get WorkerStopTimeout to finish; unfinished ones are retried elsewhere
// or after a restart), then closes connections.
func (a *App) Shutdown(ctx context.Context) error {
	var errs []error
	if a.http != nil {
		if err := a.http.Shutdown(ctx); err != nil {
			// Past the deadline, cut what is still open; those runs go on in Temporal and
			// their messages are saved.
			_ = a.http.Close()
			errs = append(errs, fmt.Errorf("stop HTTP server: %w", err))
		}
	}
	a.close()
	return errors.Join(errs...)
}

func (a *App) close() {
	if a.worker != nil {
		a.worker.Stop()
		a.worker = nil
	}
	// The Temporal client goes first: its payload codec uses storage.
	if a.temporal != nil {
		a.temporal.Close()
		a.temporal = nil
	}
	// Last opened, first closed: a part may use what was opened before it.
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
	if a.db != nil {
		closeDB(a.db)
		a.db = nil
	}
}

// checkKey refuses to start with a key that opens none of the stored credentials, naming the
// key's source, rather than failing each prediction that needs one later.
func checkKey(ctx context.Context, store *models.Store, cipher *secrets.Cipher, log *slog.Logger) error {
	creds, err := store.SampleCredentials(ctx, 20)
	if err != nil {
		return err
	}
	samples := make([]string, len(creds))
	for i, c := range creds {
		samples[i] = c.EncryptedData
	}
	failed, err := cipher.CheckKey(samples)
	if err != nil {
		return err
	}
	if failed > 0 {
		log.Warn("some stored credentials cannot be decrypted; predictions that use them will fail",
			"failed", failed, "checked", len(samples))
	}
	return nil
}

// keySource is where cfg says Flowgate's encryption key is.
func keySource(cfg config.Config) secrets.KeySourceConfig {
	return secrets.KeySourceConfig{
		Overwrite:   cfg.SecretKeyOverwrite,
		Path:        cfg.SecretKeyPath,
		StorageType: cfg.SecretKeyStorageType,
		AWS:         cfg.SecretKeyAWS,
	}
}

// newCipher resolves the encryption key from its configured source, plus the previous key
// while a rotation is under way.
func newCipher(ctx context.Context, cfg config.Config) (*secrets.Cipher, error) {
	key, err := secrets.ResolveKey(ctx, keySource(cfg))
	if err != nil {
		return nil, fmt.Errorf("resolve encryption key: %w", err)
	}
	var previous []secrets.Key
	if cfg.SecretKeyPrevious != "" {
		previous = append(previous, secrets.NewKey(cfg.SecretKeyPrevious, "FLOWGATE_SECRETKEY_PREVIOUS"))
	}
	return secrets.NewCipher(key, previous...), nil
}

// RotationReport counts what RotateKeys did.
type RotationReport struct {
	Reencrypted, Current, Failed, Changed int
}

// RotateKeys re-encrypts every credential that is not yet sealed with the current key. It runs
// online: processes configured with both keys keep reading every row meanwhile, and a row edited
// during the rotation is left to that edit (counted as Changed) rather than overwritten.
func RotateKeys(ctx context.Context, cfg config.Config, log *slog.Logger) (RotationReport, error) {
	var rep RotationReport
	db, err := models.Open(ctx, cfg.Database)
	if err != nil {
		return rep, err
	}
	defer closeDB(db)
	store := models.NewStore(db)
	cipher, err := newCipher(ctx, cfg)
	if err != nil {
		return rep, err
	}
	creds, err := store.ListCredentials(ctx, nil)
	if err != nil {
		return rep, err
	}
	for _, c := range creds {
		if cipher.Current(c.EncryptedData) {
			rep.Current++
			continue
		}
		plain, err := cipher.Decrypt(c.EncryptedData)
		if err != nil {
			rep.Failed++
			log.Error("credential cannot be decrypted with the current or previous key", "credential", c.ID, "name", c.Name)
			continue
		}
		sealed, err := cipher.Encrypt(plain)
		if err != nil {
			return rep, err
		}
		ok, err := store.Reencrypt(ctx, c.ID, c.EncryptedData, sealed, cipher.KeyID())
		if err != nil {
			return rep, err
		}
		if ok {
			rep.Reencrypted++
		} else {
			rep.Changed++
		}
	}
	return rep, nil
}

// ImportAPIKeys reads a Flowise api.json into the configured key store. Only each key's lookup
// prefix and scrypt secret are kept; the plaintext keys in the file stay valid.
func ImportAPIKeys(ctx context.Context, cfg config.Config, path string) (int, error) {
	a := &App{cfg: cfg}
	if cfg.APIKeyStorageType == "db" {
		db, err := models.Open(ctx, cfg.Database)
		if err != nil {
			return 0, err
		}
		a.db = db
		defer a.close()
	}
	return apikeys.ImportFlowiseFile(ctx, path, a.keyStore())
}

// grpcCompression is what the SDK compresses its calls to Temporal at addr with. The SDK
// gzips every request by default (and the server answers in kind), which on a loopback
// connection, the embedded server's or one on the same machine, saves no bandwidth and costs
// about 4% of a prediction's CPU at 50 clients. A remote server keeps the SDK's default.
func grpcCompression(addr string) client.GrpcCompression {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr // no port
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback() {
		return &client.GrpcCompressionNone{}
	}
	return nil // the SDK's default, gzip
}
