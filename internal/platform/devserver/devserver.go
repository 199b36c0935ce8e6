// Package devserver runs a single-process Temporal server with its Web UI, persisted to a
// SQLite file, so that `flowgate start` works on a fresh machine with nothing else installed.
//
// It lives in its own package because linking the Temporal server makes a cold build take
// minutes; only cmd/flowgate and the end-to-end tests import it.
package devserver

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"

	"github.com/flowgate/flowgate/internal/platform/fsperm"
)

const clusterName = "active"

// Options configures the embedded server. Zero ports pick free ones.
type Options struct {
	// DatabaseFile persists the server's state; empty means in memory (tests).
	DatabaseFile string
	IP           string // default 127.0.0.1
	FrontendPort int    // default 7233 when free, else a free port
	UIPort       int    // 0 picks a free port; negative disables the UI
	Namespace    string // registered at start
	// SearchAttributes are custom keyword attributes registered on the namespace so operators
	// can filter runs in the UI.
	SearchAttributes map[string]enumspb.IndexedValueType
	// UIHosts are names besides its own address (localhost, 127.0.0.1, [::1], IP) that the Web
	// UI answers to, for operators who reach it through a tunnel or proxy
	// (FLOWGATE_TEMPORAL_UI_HOSTS). Requests naming any other host get 403.
	UIHosts []string
	// LogLevel of the server's own logs (debug, info, warn, error, fatal); default fatal,
	// because the server logs routine events such as a worker's polls ending at shutdown as
	// errors, which would drown Flowgate's own logs.
	LogLevel string
}

// Server is a running embedded Temporal server.
type Server struct {
	server       temporal.Server
	ui           *uiServer
	frontendAddr string
	uiAddr       string
	// keptRuns are the new runs its stores keep until their first read (newruns.go); here
	// for tests.
	keptRuns *keptRuns
}

// FrontendAddress is the gRPC address clients and workers dial.
func (s *Server) FrontendAddress() string { return s.frontendAddr }

// UIAddress is the Web UI's base URL, empty when the UI is disabled.
func (s *Server) UIAddress() string { return s.uiAddr }

// Start builds and starts the server; it returns once the frontend accepts connections.
func Start(opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		return nil, errors.New("devserver: a namespace is required")
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "fatal"
	}
	ports, err := freePorts(opts.IP, 5)
	if err != nil {
		return nil, err
	}
	frontendPort := opts.FrontendPort
	if frontendPort == 0 {
		frontendPort = ports[0]
	}
	httpPort, historyPort, matchingPort, workerPort := ports[1], ports[2], ports[3], ports[4]

	stateConf, visibilityConf, err := sqlConfig(opts)
	if err != nil {
		return nil, err
	}
	frontendAddr := net.JoinHostPort(opts.IP, strconv.Itoa(frontendPort))
	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = opts.IP
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-visibility"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{
		"sqlite-default":    {SQL: stateConf},
		"sqlite-visibility": {SQL: visibilityConf},
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled:                true,
			InitialFailoverVersion: 1,
			RPCAddress:             frontendAddr,
			HTTPAddress:            net.JoinHostPort(opts.IP, strconv.Itoa(httpPort)),
			ClusterID:              "flowgate-embedded",
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	service := func(port int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = port
		s.RPC.BindOnIP = opts.IP
		return s
	}
	frontend := service(frontendPort)
	frontend.RPC.HTTPPort = httpPort
	conf.Services = map[string]config.Service{
		"frontend": frontend,
		"history":  service(historyPort),
		"matching": service(matchingPort),
		"worker":   service(workerPort),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontendAddr

	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: opts.LogLevel}))
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("devserver: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("devserver: claim mapper: %w", err)
	}
	host := func(port int) static.Hosts {
		return static.SingleLocalHost(net.JoinHostPort(opts.IP, strconv.Itoa(port)))
	}
	runs := newKeptRuns()
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(map[primitives.ServiceName]static.Hosts{
			primitives.FrontendService: host(frontendPort),
			primitives.HistoryService:  host(historyPort),
			primitives.MatchingService: host(matchingPort),
			primitives.WorkerService:   host(workerPort),
		}),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicConfig()),
		temporal.WithPersistenceFactoryProvider(keepingNewRuns(runs)),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: build server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start server: %w", err)
	}
	s := &Server{server: srv, frontendAddr: frontendAddr, keptRuns: runs}
	if opts.UIPort >= 0 {
		uiPort := opts.UIPort
		if uiPort == 0 {
			p, err := freePorts(opts.IP, 1)
			if err != nil {
				srv.Stop()
				return nil, err
			}
			uiPort = p[0]
		}
		ui, err := startUI(opts.IP, uiPort, frontendAddr, opts.Namespace, opts.UIHosts)
		if err != nil {
			srv.Stop()
			return nil, err
		}
		s.ui = ui
		s.uiAddr = "http://" + ui.addr
	}
	return s, nil
}

// Stop stops the UI and the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.stop()
	}
	s.server.Stop()
}

// sqlConfig returns the stores of the server's state and of its visibility records (the run
// list the UI searches). They are separate SQLite databases: SQLite lets one writer at a time
// into a database, and every run writes its visibility records on the side, so sharing one
// file made each prediction wait behind the visibility writes of the others. Both go through
// this package's plugins (prepared run reads, batched run-list writes), which take over
// queries only in database files (wrappingPlugin): in-memory databases keep Temporal's plugin
// and its one connection.
func sqlConfig(opts Options) (state, visibility *config.SQL, err error) {
	if state, err = sqliteStore(opts.DatabaseFile, "state"); err != nil {
		return nil, nil, err
	}
	visFile := ""
	if opts.DatabaseFile != "" {
		visFile = strings.TrimSuffix(opts.DatabaseFile, filepath.Ext(opts.DatabaseFile)) + "-visibility.db"
	}
	if visibility, err = sqliteStore(visFile, "visibility"); err != nil {
		return nil, nil, err
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, nil, fmt.Errorf("devserver: namespace config: %w", err)
	}
	// CreateNamespaces skips namespaces that already exist, so restarts keep their data.
	if err := sqliteschema.CreateNamespaces(state, ns); err != nil {
		return nil, nil, fmt.Errorf("devserver: create namespace %q: %w", opts.Namespace, err)
	}
	if visFile != "" {
		fields, err := searchAttributeFields(state)
		if err != nil {
			return nil, nil, err
		}
		if err := leanVisibility(visFile, fields); err != nil {
			return nil, nil, err
		}
	}
	state.PluginName = preparedReadsPluginName
	visibility.PluginName = batchedPluginName
	return state, visibility, nil
}

// fileAttributes configure the connections to a database file: the mode is a SQLite URI
// parameter, the others PRAGMAs. WAL with synchronous=NORMAL commits without an fsync each
// time (the WAL is synced at checkpoints): a crash of the machine, not of the process, can
// lose the last commits.
var fileAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "normal"}

// uriEscape is a percent escape, which SQLite decodes in a URI's path.
var uriEscape = regexp.MustCompile(`%[0-9A-Fa-f]{2}`)

// sqliteStore configures one SQLite database: in memory when file is empty (tests), else the
// file, created with its schema on first use.
func sqliteStore(file, name string) (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if file == "" {
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = "flowgate-" + name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		return conf, nil
	}
	// Temporal's plugin puts the path into a SQLite URI as it is, where ? and # end it and %
	// with two hex digits stands for another character: the server would open another file
	// than our own connections.
	if strings.ContainsAny(file, "?#") || uriEscape.MatchString(file) {
		return nil, fmt.Errorf("devserver: the database path %q may not contain ?, # or %% followed by two hex digits", file)
	}
	conf.ConnectAttributes = maps.Clone(fileAttributes)
	conf.DatabaseName = file
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := fsperm.MkdirAll(filepath.Dir(file)); err != nil {
			return nil, fmt.Errorf("devserver: create data directory: %w", err)
		}
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("devserver: set up schema in %s: %w", file, err)
		}
	}
	// SQLite creates the file readable by all (under the umask), as older versions left it;
	// the -wal and -shm files the server makes copy the database file's mode.
	if err := fsperm.Tighten(file, file+"-wal", file+"-shm"); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	return conf, nil
}

// historyCacheSize and queueWorkers are the history cache's entries and each history queue's
// workers: the queues' workers together can hold at most a fifth of the cache.
const (
	historyCacheSize = 512
	queueWorkers     = 32
)

// queueCheckpointInterval is how often each history queue checkpoints (see dynamicConfig).
const queueCheckpointInterval = 5 * time.Second

// dynamicConfig tunes the server for one process on one machine.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// The cache holds runs' mutable state while they work. A chatflow prediction's run is
		// created outside it and read back once when its one workflow task completes (from what
		// its creation wrote: newruns.go), whatever the size; after it closes, only its run-list
		// record reads it, within about a second. Its timeout timers (PredictionTaskTimeout, the
		// prediction timeout) would read it back once more each, but the state store leaves
		// closed runs' timeouts out (closedtimers.go). So 512 entries (a prediction in a new
		// chat takes two: its run's and its workflow id's current-run lock) do as well as 2048
		// did at 250 predictions a second, for about 60 MB less memory; a run pushed out early
		// is read back from SQLite (nine prepared queries) when it next needs a task.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): historyCacheSize,
		// A task takes its run's cache entry before it waits for the run's lock, and an entry
		// in use cannot be pushed out: with every entry in use the server refuses new work
		// (ResourceExhausted). Each history queue runs its tasks on 512 workers by default,
		// enough to take the whole cache during a backlog (timers due after a long stop).
		// Behind one SQLite writer a few workers keep up with any backlog as well as 512.
		dynamicconfig.TimerProcessorSchedulerWorkerCount.Key():      queueWorkers,
		dynamicconfig.TransferProcessorSchedulerWorkerCount.Key():   queueWorkers,
		dynamicconfig.VisibilityProcessorSchedulerWorkerCount.Key(): queueWorkers,
		// Every history batch a run writes is walked for payloads kept outside Temporal
		// (external storage, which Flowgate's client does not use) to account for their size:
		// 2.4% of all CPU at 50 clients, and more in stack growth for the walk's recursion.
		dynamicconfig.ExternalPayloadsEnabled.Key(): false,
		// Partitions spread a task queue over matching hosts; with one host they only add
		// forwarding hops between a task and the poller waiting for it.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
		// Hand activities and first workflow tasks straight to the worker that asked for them.
		dynamicconfig.EnableActivityEagerExecution.Key(): true,
		dynamicconfig.EnableEagerWorkflowStart.Key():     true,
		// Every workflow task (and any activity task not started eagerly) reaches matching
		// through the shard's transfer queue reader, and each read waits on a token bucket of
		// this many reads per second per shard (default 20, burst 20). With one shard a run of
		// sequential activities outruns it after ~20 tasks, and from then on every dispatch
		// waits ~45 ms for a token. Reads happen only when a task is written (or once a
		// minute), so raising the cap removes the wait without changing what is persisted or
		// when; history.persistenceMaxQPS still bounds this host's database load.
		dynamicconfig.TransferProcessorMaxPollRPS.Key(): 1000,
		// A caller waiting for a run's result long-polls history, which wakes it through a
		// one-slot channel and drops a notification when the slot is still full
		// (service/history/events/notifier.go). Once runs finish in tens of milliseconds, the
		// close notification is sometimes dropped behind the previous one and the caller
		// waits out the whole poll (default 20 s) before asking again. Ending each poll after
		// 1 s bounds that stall; the SDK simply polls again, which costs one cached read.
		dynamicconfig.HistoryLongPollExpirationInterval.Key(): time.Second,
		// A run's visibility records (the UI's run list) are written by a queue that reads
		// its tasks at most this many times a second per shard (default 20). A start record
		// is skipped when the run has closed by the time its task is read. Under sustained
		// load reads come every half second, and a prediction of tens of milliseconds has
		// then mostly ended: most runs cost one visibility write instead of two (the start
		// records were 5% of all CPU at 50 clients). Runs of seconds, such as calls to a real
		// model, still get both. The run list shows a run up to about half a second later.
		// Each read takes up to VisibilityTaskBatchSize tasks, so the queue's ceiling stays
		// the default's 2 000 tasks a second (20 × 100), far above one machine's predictions.
		dynamicconfig.VisibilityProcessorMaxPollRPS.Key(): 2,
		dynamicconfig.VisibilityTaskBatchSize.Key():       1000,
		// The state store leaves closed runs' timeouts out of the timers read within this of
		// the clock (closedtimers.go); this is the default, pinned so the two agree.
		dynamicconfig.TimerProcessorMaxTimeShift.Key(): timerReadAhead,
		// A history queue holds the tasks it has read in slices, and merges each new range of
		// tasks (on a notice of new tasks, or its poll) into its slices. A slice forgets its
		// done tasks only at a checkpoint (every queueCheckpointInterval, below), where one with
		// nothing left to read also narrows its filter from all namespaces to its pending tasks'
		// namespaces. The slice after it, for all namespaces, then cannot merge with it by
		// range: on every merge Temporal splits both, walking every task they hold (done ones
		// included, and the second holds all read since the checkpoint), and the next checkpoint
		// usually narrows the next slice the same way. In three soaks of seven throughput sagged
		// by up to 45% for tens of seconds; in the one profiled the walks were 16-28% of all
		// CPU. 0 keeps every filter whole: with one namespace doing the work a narrower one
		// saves nothing. (A backlog of 500 tasks or more still has Temporal move a namespace's
		// tasks to a reader of their own, which leaves a narrowed slice behind until a
		// checkpoint.)
		dynamicconfig.QueueShrinkPredicateMaxPendingKeys.Key(): 0,
		// The same checkpoint is where a queue lets go of its done tasks: until then a slice
		// keeps each one, with its task, in memory. At the default of every 30 s a queue at
		// 50 clients held some 10 MB of done tasks, which the Go collector's goal doubles in
		// the process's memory. Every 5 s holds a sixth of that. A checkpoint deletes the
		// done tasks' rows by range (one statement per queue: now more often, in smaller
		// ranges) and hands the queue's state to the shard, which writes its row only after
		// 1,000 completed tasks or 5 minutes, as before. Deletion still comes first, so
		// what a crash leaves is as before.
		dynamicconfig.TransferProcessorUpdateAckInterval.Key():   queueCheckpointInterval,
		dynamicconfig.TimerProcessorUpdateAckInterval.Key():      queueCheckpointInterval,
		dynamicconfig.VisibilityProcessorUpdateAckInterval.Key(): queueCheckpointInterval,
		// Every batch of history events a run writes is also put in a cache for replication
		// to other clusters (8 MiB of blobs, readable for 20 s but kept until newer batches
		// push them out). An embedded server is one cluster and never replicates, so the
		// cache was 6-11 MB of live heap read by no one. 0 leaves the smallest cache Temporal
		// allows (64 KiB; a larger batch is not cached at all).
		dynamicconfig.XDCCacheMaxSizeBytes.Key(): 0,
	}
}

// freePorts reserves n distinct free TCP ports by listening on them at once, then releases them.
func freePorts(ip string, n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("devserver: find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
