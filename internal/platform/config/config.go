// Package config reads Flowgate's settings from the environment, under Flowise's variable
// names wherever Flowise has one, so an existing Flowise .env mostly carries over.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/platform/apikeys"
	"github.com/flowgate/flowgate/internal/platform/ratelimit"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/internal/platform/telemetry"
	"github.com/flowgate/flowgate/internal/sandbox/netguard"
	"github.com/flowgate/flowgate/internal/storage"
	"github.com/flowgate/flowgate/models"
)

// Modes.
const (
	ModeMain  = "main"  // the API process also runs flows
	ModeQueue = "queue" // the API only starts runs; `flowgate worker` runs them
)

// Config is every setting of a Flowgate process.
type Config struct {
	Port          int    // PORT
	Host          string // HOST
	DataDir       string // FLOWGATE_DATA_DIR, default ~/.flowgate
	BlobPath      string // BLOB_STORAGE_PATH
	SecretKeyPath string // SECRETKEY_PATH (directory of encryption.key)
	// SecretKeyOverwrite is FLOWISE_SECRETKEY_OVERWRITE; never log it.
	SecretKeyOverwrite string
	// SecretKeyPrevious is the key being rotated away from (FLOWGATE_SECRETKEY_PREVIOUS): set
	// it on every process during a rotation so rows of either key decrypt; never log it.
	SecretKeyPrevious string
	// APIKeyStorageType is APIKEY_STORAGE_TYPE: "json" (APIKEY_PATH/api.json) or "db".
	APIKeyStorageType string
	APIKeyPath        string // APIKEY_PATH, default the data directory
	// SecretKeyStorageType is SECRETKEY_STORAGE_TYPE: "local" (default), the key file in
	// SecretKeyPath, or "aws", the AWS Secrets Manager secret described by SecretKeyAWS.
	// FLOWISE_SECRETKEY_OVERWRITE wins over both.
	SecretKeyStorageType string
	// SecretKeyAWS locates the key in AWS Secrets Manager: SECRETKEY_AWS_NAME (default
	// FlowiseEncryptionKey), SECRETKEY_AWS_REGION (default us-east-1), SECRETKEY_AWS_ACCESS_KEY
	// and SECRETKEY_AWS_SECRET_KEY (used when both are set, else the default AWS credential
	// chain), and SECRETKEY_AWS_ENDPOINT, a Flowgate extension that replaces the Secrets
	// Manager endpoint (LocalStack, a private or air-gapped endpoint). SecretKey is a
	// secret: never log it (fmt and slog print it as [redacted]).
	SecretKeyAWS secrets.AWSKeyConfig
	Database     models.DBConfig

	Mode              string // MODE
	TemporalAddress   string // TEMPORAL_ADDRESS; empty starts the embedded server
	TemporalNamespace string // TEMPORAL_NAMESPACE
	QueueName         string // QUEUE_NAME: the Temporal task queue
	WorkerConcurrency int    // WORKER_CONCURRENCY: concurrent node executions per worker
	WorkerPort        int    // WORKER_PORT: the worker tier's health endpoint
	// Embedded server ports (FLOWGATE_TEMPORAL_PORT, FLOWGATE_TEMPORAL_UI_PORT); 0 picks a free one.
	TemporalPort   int
	TemporalUIPort int
	// TemporalUIHosts are host names the embedded Web UI answers to besides its own address
	// (FLOWGATE_TEMPORAL_UI_HOSTS, comma-separated), for a tunnel or proxy in front of it.
	TemporalUIHosts []string
	// SearchAttributes sets FlowiseChatflowId/FlowiseChatId on runs (FLOWGATE_SEARCH_ATTRIBUTES);
	// always on with the embedded server, which registers them.
	SearchAttributes bool

	// Storage is where uploads, attachments, big workflow values and (with s3) logs live:
	// STORAGE_TYPE, BLOB_STORAGE_PATH and the S3_* settings. S3_STORAGE_SECRET_ACCESS_KEY is a
	// secret: never log it.
	Storage storage.Config
	// LogPath is LOG_PATH: rotated log files when storage is local (default DataDir/logs).
	LogPath string
	// LargeValueBytes is FLOWGATE_LARGE_VALUE_BYTES: workflow values above it go to storage and
	// the history carries a reference (Temporal refuses payloads over 2 MB).
	LargeValueBytes int

	// NumberOfProxies (NUMBER_OF_PROXIES) and TrustProxy (TRUST_PROXY) say which
	// X-Forwarded-For entry is the client; see the ratelimit package.
	NumberOfProxies string
	TrustProxy      string
	// RateLimitStore is FLOWGATE_RATE_LIMIT_STORE: "memory" (one process) or "postgres" (one
	// limit across API replicas; the default with DATABASE_TYPE=postgres).
	RateLimitStore string
	// RateLimitFailOpen is FLOWGATE_RATE_LIMIT_FAIL_OPEN (default true): whether requests pass
	// while the shared store is unreachable.
	RateLimitFailOpen bool
	// RateLimitIPv6Prefix is FLOWGATE_RATE_LIMIT_IPV6_PREFIX (default 64, 1 to 128): how many
	// leading bits of an IPv6 address rate limits count as one client.
	RateLimitIPv6Prefix int

	// CORSOrigins is CORS_ORIGINS: the origins (scheme://host[:port], lower case) whose pages
	// may call every route; ["*"] is any, none (the default, as in Flowise) only the chat
	// widget's routes, which take any origin unless a chatflow narrows them.
	CORSOrigins []string
	// CORSAllowCredentials is CORS_ALLOW_CREDENTIALS: those pages may send cookies too.
	CORSAllowCredentials bool
	// IframeOrigins is IFRAME_ORIGINS: the sources a frame-ancestors policy lets frame the
	// answers; ["*"] (the default, as in Flowise) sends no policy.
	IframeOrigins []string

	// HumanInputTimeout bounds an agentflow run that waits for human input
	// (FLOWGATE_HUMAN_INPUT_TIMEOUT, default 30 days).
	HumanInputTimeout time.Duration
	// HTTPPolicy guards HTTP from nodes and tools against server-side request forgery:
	// HTTP_SECURITY_CHECK, HTTP_DENY_LIST and FLOWGATE_HTTP_ALLOW_LIST.
	HTTPPolicy netguard.Policy
	// Telemetry is metrics (ENABLE_METRICS, METRICS_*) and traces (OTEL_*).
	Telemetry telemetry.Config

	LogLevel          string        // LOG_LEVEL
	FileSizeLimit     int64         // FLOWISE_FILE_SIZE_LIMIT, e.g. "50mb"
	PredictionTimeout time.Duration // FLOWGATE_PREDICTION_TIMEOUT
	// ResendWindow is how long after its run ended a prediction resent without an
	// Idempotency-Key still gets that run's answer rather than a new turn
	// (FLOWGATE_RESEND_WINDOW).
	ResendWindow time.Duration
	// WorkerStopTimeout is how long a stopping worker lets running nodes finish before it
	// hands them back to Temporal for a retry (FLOWGATE_WORKER_STOP_TIMEOUT).
	WorkerStopTimeout time.Duration
}

// Load reads the configuration from getenv (os.Getenv in production).
func Load(getenv func(string) string) (Config, error) {
	env := func(name, def string) string { return setting(getenv, name, def) }
	var err error
	c := Config{
		Host:              env("HOST", ""),
		DataDir:           env("FLOWGATE_DATA_DIR", filepath.Join(HomeDir(), ".flowgate")),
		SecretKeyPrevious: getenv("FLOWGATE_SECRETKEY_PREVIOUS"),
		Mode:              env("MODE", ModeMain),
		TemporalAddress:   env("TEMPORAL_ADDRESS", ""),
		TemporalNamespace: env("TEMPORAL_NAMESPACE", "default"),
		QueueName:         env("QUEUE_NAME", "flowise-queue"),
		LogLevel:          env("LOG_LEVEL", "info"),
	}
	c.BlobPath = env("BLOB_STORAGE_PATH", filepath.Join(c.DataDir, "storage"))
	c.LogPath = env("LOG_PATH", filepath.Join(c.DataDir, "logs"))
	c.Storage = storage.Config{
		Type:            env("STORAGE_TYPE", "local"),
		LocalPath:       c.BlobPath,
		Bucket:          env("S3_STORAGE_BUCKET_NAME", ""),
		Region:          env("S3_STORAGE_REGION", "us-east-1"),
		AccessKeyID:     getenv("S3_STORAGE_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("S3_STORAGE_SECRET_ACCESS_KEY"),
		Endpoint:        env("S3_ENDPOINT_URL", ""),
		ForcePathStyle:  env("S3_FORCE_PATH_STYLE", "false") == "true",
	}
	if t := c.Storage.Type; t != "local" && t != "s3" {
		return c, fmt.Errorf(`STORAGE_TYPE must be "local" or "s3", got %q`, t)
	}
	if c.Storage.Type == "s3" && c.Storage.Bucket == "" {
		return c, errors.New("STORAGE_TYPE=s3 needs S3_STORAGE_BUCKET_NAME")
	}
	c.NumberOfProxies = env("NUMBER_OF_PROXIES", "")
	c.TrustProxy = env("TRUST_PROXY", "")
	c.APIKeyPath = env("APIKEY_PATH", c.DataDir)
	c.APIKeyStorageType = env("APIKEY_STORAGE_TYPE", "json")
	if c.APIKeyStorageType != "json" && c.APIKeyStorageType != "db" {
		return c, fmt.Errorf(`APIKEY_STORAGE_TYPE must be "json" or "db", got %q`, c.APIKeyStorageType)
	}
	key := KeySource(getenv, c.DataDir)
	c.SecretKeyOverwrite, c.SecretKeyPath, c.SecretKeyStorageType, c.SecretKeyAWS = key.Overwrite, key.Path, key.StorageType, key.AWS
	c.Database = Database(getenv, c.DataDir)
	const noMax, maxPort = 0, 65535
	ints := []struct {
		name     string
		def, max int
		dst      *int
	}{
		{"PORT", 3000, maxPort, &c.Port},
		{"DATABASE_PORT", 5432, maxPort, &c.Database.Port},
		{"FLOWGATE_DATABASE_POOL_SIZE", 10, noMax, &c.Database.MaxOpenConns},
		{"WORKER_CONCURRENCY", 200, noMax, &c.WorkerConcurrency},
		{"WORKER_PORT", 5566, maxPort, &c.WorkerPort},
		{"FLOWGATE_TEMPORAL_PORT", 7233, maxPort, &c.TemporalPort},
		{"FLOWGATE_TEMPORAL_UI_PORT", 8233, maxPort, &c.TemporalUIPort},
		{"FLOWGATE_LARGE_VALUE_BYTES", 256 << 10, 1 << 20, &c.LargeValueBytes},
		{"FLOWGATE_RATE_LIMIT_IPV6_PREFIX", ratelimit.DefaultIPv6Prefix, 128, &c.RateLimitIPv6Prefix},
	}
	for _, i := range ints {
		v, err := strconv.Atoi(env(i.name, strconv.Itoa(i.def)))
		if err != nil || v < 0 {
			return c, fmt.Errorf("%s must be a non-negative whole number, got %q", i.name, getenv(i.name))
		}
		if i.max != noMax && v > i.max {
			return c, fmt.Errorf("%s must be a whole number from 0 to %d, got %q", i.name, i.max, getenv(i.name))
		}
		*i.dst = v
	}
	if c.RateLimitIPv6Prefix == 0 {
		// A /0 would count every IPv6 client as one, so one of them could lock out all.
		return c, fmt.Errorf("FLOWGATE_RATE_LIMIT_IPV6_PREFIX must be from 1 to 128, got %q", getenv("FLOWGATE_RATE_LIMIT_IPV6_PREFIX"))
	}
	if c.FileSizeLimit, err = ParseSize(env("FLOWISE_FILE_SIZE_LIMIT", "50mb")); err != nil {
		return c, fmt.Errorf("FLOWISE_FILE_SIZE_LIMIT: %w", err)
	}
	if c.PredictionTimeout, err = time.ParseDuration(env("FLOWGATE_PREDICTION_TIMEOUT", "5m")); err != nil || c.PredictionTimeout <= 0 {
		return c, fmt.Errorf("FLOWGATE_PREDICTION_TIMEOUT must be a positive duration such as 5m, got %q", getenv("FLOWGATE_PREDICTION_TIMEOUT"))
	}
	if c.ResendWindow, err = time.ParseDuration(env("FLOWGATE_RESEND_WINDOW", "10s")); err != nil || c.ResendWindow < 0 {
		return c, fmt.Errorf("FLOWGATE_RESEND_WINDOW must be a duration such as 1m, got %q", getenv("FLOWGATE_RESEND_WINDOW"))
	}
	if c.WorkerStopTimeout, err = time.ParseDuration(env("FLOWGATE_WORKER_STOP_TIMEOUT", "20s")); err != nil || c.WorkerStopTimeout < 0 {
		return c, fmt.Errorf("FLOWGATE_WORKER_STOP_TIMEOUT must be a duration such as 20s, got %q", getenv("FLOWGATE_WORKER_STOP_TIMEOUT"))
	}
	if c.Mode != ModeMain && c.Mode != ModeQueue {
		return c, fmt.Errorf("MODE must be %q or %q, got %q", ModeMain, ModeQueue, c.Mode)
	}
	if c.SecretKeyStorageType != secrets.StorageTypeLocal && c.SecretKeyStorageType != secrets.StorageTypeAWS {
		return c, fmt.Errorf("SECRETKEY_STORAGE_TYPE must be %q or %q, got %q",
			secrets.StorageTypeLocal, secrets.StorageTypeAWS, c.SecretKeyStorageType)
	}
	if e := c.SecretKeyAWS.Endpoint; e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("SECRETKEY_AWS_ENDPOINT must be a URL such as http://localhost:4566, got %q", e)
		}
	}
	for _, h := range strings.Split(getenv("FLOWGATE_TEMPORAL_UI_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			c.TemporalUIHosts = append(c.TemporalUIHosts, h)
		}
	}
	if c.CORSOrigins, err = originList("CORS_ORIGINS", getenv("CORS_ORIGINS")); err != nil {
		return c, err
	}
	c.CORSAllowCredentials = env("CORS_ALLOW_CREDENTIALS", "false") == "true"
	if c.IframeOrigins, err = originList("IFRAME_ORIGINS", env("IFRAME_ORIGINS", "*")); err != nil {
		return c, err
	}
	c.SearchAttributes = env("FLOWGATE_SEARCH_ATTRIBUTES", "false") == "true"
	defaultStore := "memory"
	if c.Database.Type == "postgres" {
		defaultStore = "postgres"
	}
	c.RateLimitStore = env("FLOWGATE_RATE_LIMIT_STORE", defaultStore)
	if c.RateLimitStore != "memory" && c.RateLimitStore != "postgres" {
		return c, fmt.Errorf(`FLOWGATE_RATE_LIMIT_STORE must be "memory" or "postgres", got %q`, c.RateLimitStore)
	}
	if c.RateLimitStore == "postgres" && c.Database.Type != "postgres" {
		return c, errors.New("FLOWGATE_RATE_LIMIT_STORE=postgres needs DATABASE_TYPE=postgres")
	}
	c.RateLimitFailOpen = env("FLOWGATE_RATE_LIMIT_FAIL_OPEN", "true") == "true"
	if c.HumanInputTimeout, err = time.ParseDuration(env("FLOWGATE_HUMAN_INPUT_TIMEOUT", "720h")); err != nil || c.HumanInputTimeout <= 0 {
		return c, fmt.Errorf("FLOWGATE_HUMAN_INPUT_TIMEOUT must be a positive duration such as 720h, got %q", getenv("FLOWGATE_HUMAN_INPUT_TIMEOUT"))
	}
	if c.HTTPPolicy, err = netguard.PolicyFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Telemetry, err = telemetry.ConfigFromEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}

// originList reads a comma-separated list of origins (or CSP sources such as 'self'), lower
// case. An entry with a semicolon, a quote out of place or a control character is refused: the
// list ends up in response headers, where it could otherwise add a policy of its own.
func originList(name, raw string) ([]string, error) {
	var out []string
	for _, o := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		o = strings.ToLower(o)
		if strings.ContainsAny(o, ";\"") || strings.ContainsFunc(o, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
			return nil, fmt.Errorf("%s must be a comma-separated list of origins such as https://example.com, got %q", name, raw)
		}
		out = append(out, o)
	}
	return out, nil
}

// ParseSize reads sizes the way Flowise's body limit does: "50mb", "512kb", "1gb" or bytes.
func ParseSize(size string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(size))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	// n > 0 is false for NaN; the upper bound keeps Inf and overflowing sizes out of int64.
	if err != nil || !(n > 0) || n*float64(mult) >= math.MaxInt64 || int64(n*float64(mult)) < 1 {
		return 0, fmt.Errorf("size must look like 50mb, got %q", size)
	}
	return int64(n * float64(mult)), nil
}

// PrivatePaths are the data on local disk that Flowgate makes private to its user at start
// (see fsperm.Tighten): the data directory, the SQLite database's directory and files, the
// encryption key file and the API key file. The storage and log directories and the embedded
// Temporal server's databases are tightened by the code that opens them; what lies in those
// directories is unreachable to others once they are 0700.
func (c Config) PrivatePaths() []string {
	paths := []string{c.DataDir}
	if c.Database.Type == "sqlite" {
		paths = append(paths, c.Database.Path)
		paths = append(paths, models.SQLiteFiles(filepath.Join(c.Database.Path, "database.sqlite"))...)
	}
	if c.SecretKeyStorageType == secrets.StorageTypeLocal && c.SecretKeyOverwrite == "" {
		paths = append(paths, filepath.Join(c.SecretKeyPath, secrets.KeyFileName))
	}
	if c.APIKeyStorageType == "json" {
		paths = append(paths, filepath.Join(c.APIKeyPath, apikeys.FileName))
	}
	return paths
}

// Addr is the API's listen address.
func (c Config) Addr() string { return fmt.Sprintf("%s:%d", c.Host, c.Port) }
