package config_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/secrets"
)

// envOf serves a fixed environment, so tests never depend on the machine's.
func envOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

func TestLoadDefaults(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	c, err := config.Load(envOf(nil))
	require.NoError(t, err)

	dataDir := filepath.Join(home, ".flowgate")
	require.Equal(t, 3000, c.Port)
	require.Equal(t, "", c.Host)
	require.Equal(t, ":3000", c.Addr())
	require.Equal(t, config.ModeMain, c.Mode)
	require.Equal(t, "main", c.Mode)
	require.Equal(t, "flowise-queue", c.QueueName)
	require.Equal(t, dataDir, c.DataDir)
	require.Equal(t, filepath.Join(dataDir, "storage"), c.BlobPath)
	require.Equal(t, dataDir, c.SecretKeyPath)
	require.Equal(t, "", c.SecretKeyOverwrite)
	require.Equal(t, "local", c.SecretKeyStorageType)
	require.Equal(t, secrets.AWSKeyConfig{Name: "FlowiseEncryptionKey", Region: "us-east-1"}, c.SecretKeyAWS)
	require.Equal(t, "sqlite", c.Database.Type)
	require.Equal(t, dataDir, c.Database.Path)
	require.Equal(t, "localhost", c.Database.Host)
	require.Equal(t, 5432, c.Database.Port)
	require.Equal(t, "flowise", c.Database.Name)
	require.False(t, c.Database.SSL)
	require.Equal(t, "", c.TemporalAddress)
	require.Equal(t, "default", c.TemporalNamespace)
	require.Equal(t, 200, c.WorkerConcurrency)
	require.Equal(t, 7233, c.TemporalPort)
	require.Equal(t, 8233, c.TemporalUIPort)
	require.Empty(t, c.TemporalUIHosts)
	require.False(t, c.SearchAttributes)
	require.Equal(t, "info", c.LogLevel)
	require.Equal(t, int64(50<<20), c.FileSizeLimit)
	require.Equal(t, 5*time.Minute, c.PredictionTimeout)
	require.Equal(t, 64, c.RateLimitIPv6Prefix)
	require.Empty(t, c.CORSOrigins, "as in Flowise: only the chat widget's routes answer other origins")
	require.False(t, c.CORSAllowCredentials)
	require.Equal(t, []string{"*"}, c.IframeOrigins, "as in Flowise: any site may frame")
}

func TestLoadDataDirDerivesPaths(t *testing.T) {
	tests := []struct {
		name                          string
		env                           map[string]string
		dataDir, blob, secret, dbPath string
	}{
		{
			name:    "data dir only",
			env:     map[string]string{"FLOWGATE_DATA_DIR": "/srv/flowgate"},
			dataDir: "/srv/flowgate", blob: "/srv/flowgate/storage", secret: "/srv/flowgate", dbPath: "/srv/flowgate",
		},
		{
			name:    "surrounding spaces ignored",
			env:     map[string]string{"FLOWGATE_DATA_DIR": "  /srv/fg  "},
			dataDir: "/srv/fg", blob: "/srv/fg/storage", secret: "/srv/fg", dbPath: "/srv/fg",
		},
		{
			name: "explicit paths win",
			env: map[string]string{
				"FLOWGATE_DATA_DIR": "/srv/flowgate",
				"BLOB_STORAGE_PATH": "/blobs",
				"SECRETKEY_PATH":    "/keys",
				"DATABASE_PATH":     "/db",
			},
			dataDir: "/srv/flowgate", blob: "/blobs", secret: "/keys", dbPath: "/db",
		},
		{
			name:    "explicit paths without a data dir",
			env:     map[string]string{"BLOB_STORAGE_PATH": "/blobs"},
			dataDir: "HOME/.flowgate", blob: "/blobs", secret: "HOME/.flowgate", dbPath: "HOME/.flowgate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			t.Setenv("HOME", home)
			expand := func(p string) string { return strings.Replace(p, "HOME", home, 1) }
			c, err := config.Load(envOf(tc.env))
			require.NoError(t, err)
			require.Equal(t, expand(tc.dataDir), c.DataDir)
			require.Equal(t, expand(tc.blob), c.BlobPath)
			require.Equal(t, expand(tc.secret), c.SecretKeyPath)
			require.Equal(t, expand(tc.dbPath), c.Database.Path)
		})
	}
}

func TestLoadOverrides(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{
		"PORT":                        " 8080 ",
		"HOST":                        "127.0.0.1",
		"MODE":                        "queue",
		"QUEUE_NAME":                  "my-queue",
		"WORKER_CONCURRENCY":          "16",
		"TEMPORAL_ADDRESS":            "temporal:7233",
		"TEMPORAL_NAMESPACE":          "flows",
		"FLOWGATE_TEMPORAL_PORT":      "0",
		"FLOWGATE_TEMPORAL_UI_PORT":   "0",
		"FLOWGATE_TEMPORAL_UI_HOSTS":  " temporal.internal, ,ui.example:8233 ",
		"FLOWGATE_SEARCH_ATTRIBUTES":  "true",
		"FLOWISE_FILE_SIZE_LIMIT":     "1gb",
		"FLOWGATE_PREDICTION_TIMEOUT": "90s",
		"LOG_LEVEL":                   "debug",
		"FLOWISE_SECRETKEY_OVERWRITE": " key with spaces ",
		"DATABASE_TYPE":               "postgres",
		"DATABASE_HOST":               "db.internal",
		"DATABASE_PORT":               "6543",
		"DATABASE_NAME":               "fg",
		"DATABASE_USER":               "fguser",
		"DATABASE_PASSWORD":           " p@ss ",
		"DATABASE_SSL":                "true",
		"FLOWGATE_DATA_DIR":           "/data",
		"CORS_ORIGINS":                " https://App.example.com, http://localhost:5173 ,",
		"CORS_ALLOW_CREDENTIALS":      "true",
		"IFRAME_ORIGINS":              "'self', https://portal.example.com",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{"https://app.example.com", "http://localhost:5173"}, c.CORSOrigins)
	require.True(t, c.CORSAllowCredentials)
	require.Equal(t, []string{"'self'", "https://portal.example.com"}, c.IframeOrigins)
	require.Equal(t, 8080, c.Port)
	require.Equal(t, "127.0.0.1:8080", c.Addr())
	require.Equal(t, config.ModeQueue, c.Mode)
	require.Equal(t, "my-queue", c.QueueName)
	require.Equal(t, 16, c.WorkerConcurrency)
	require.Equal(t, "temporal:7233", c.TemporalAddress)
	require.Equal(t, "flows", c.TemporalNamespace)
	require.Equal(t, 0, c.TemporalPort, "0 picks a free port")
	require.Equal(t, 0, c.TemporalUIPort)
	require.Equal(t, []string{"temporal.internal", "ui.example:8233"}, c.TemporalUIHosts)
	require.True(t, c.SearchAttributes)
	require.Equal(t, int64(1<<30), c.FileSizeLimit)
	require.Equal(t, 90*time.Second, c.PredictionTimeout)
	require.Equal(t, "debug", c.LogLevel)
	require.Equal(t, " key with spaces ", c.SecretKeyOverwrite, "secrets are used exactly as given")
	require.Equal(t, "postgres", c.Database.Type)
	require.Equal(t, "db.internal", c.Database.Host)
	require.Equal(t, 6543, c.Database.Port)
	require.Equal(t, "fg", c.Database.Name)
	require.Equal(t, "fguser", c.Database.User)
	require.Equal(t, " p@ss ", c.Database.Password, "secrets are used exactly as given")
	require.True(t, c.Database.SSL)
	require.Equal(t, "/data", c.Database.Path)
}

func TestLoadSecretKeyAWS(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{
		"SECRETKEY_STORAGE_TYPE":   " aws ",
		"SECRETKEY_AWS_NAME":       " prod/flowgate-key ",
		"SECRETKEY_AWS_REGION":     "eu-west-1",
		"SECRETKEY_AWS_ACCESS_KEY": "AKIDEXAMPLE",
		"SECRETKEY_AWS_SECRET_KEY": " s3cr3t/with+chars ",
		"SECRETKEY_AWS_ENDPOINT":   " http://localhost:4566 ",
	}))
	require.NoError(t, err)
	require.Equal(t, "aws", c.SecretKeyStorageType)
	require.Equal(t, secrets.AWSKeyConfig{
		Name:      "prod/flowgate-key",
		Region:    "eu-west-1",
		AccessKey: "AKIDEXAMPLE",
		SecretKey: " s3cr3t/with+chars ",
		Endpoint:  "http://localhost:4566",
	}, c.SecretKeyAWS, "secrets are used exactly as given")

	printed := fmt.Sprintf("%v %+v %#v", c, c, c)
	require.NotContains(t, printed, "s3cr3t", "printing the config hides the AWS secret key")
	require.Contains(t, printed, "prod/flowgate-key")
}

func TestLoadSecretKeyStorageTypes(t *testing.T) {
	for _, v := range []string{"local", "aws"} {
		c, err := config.Load(envOf(map[string]string{"SECRETKEY_STORAGE_TYPE": v}))
		require.NoError(t, err)
		require.Equal(t, v, c.SecretKeyStorageType)
	}
	c, err := config.Load(envOf(map[string]string{"SECRETKEY_AWS_ENDPOINT": "https://secretsmanager.vpce.internal:8443/"}))
	require.NoError(t, err)
	require.Equal(t, "https://secretsmanager.vpce.internal:8443/", c.SecretKeyAWS.Endpoint)
}

func TestLoadBooleansNeedTrue(t *testing.T) {
	for _, v := range []string{"false", "1", "yes", "TRUE"} {
		c, err := config.Load(envOf(map[string]string{"DATABASE_SSL": v, "FLOWGATE_SEARCH_ATTRIBUTES": v}))
		require.NoError(t, err)
		require.False(t, c.Database.SSL, v)
		require.False(t, c.SearchAttributes, v)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{"PORT", "abc"},
		{"PORT", "-1"},
		{"PORT", "3000.5"},
		{"PORT", "70000"},
		{"DATABASE_PORT", "postgres"},
		{"DATABASE_PORT", "65536"},
		{"WORKER_CONCURRENCY", "-3"},
		{"WORKER_CONCURRENCY", "many"},
		{"FLOWGATE_TEMPORAL_PORT", "x"},
		{"FLOWGATE_TEMPORAL_UI_PORT", "99999"},
		{"MODE", "worker"},
		{"MODE", "MAIN"},
		{"FLOWGATE_PREDICTION_TIMEOUT", "5"},
		{"FLOWGATE_PREDICTION_TIMEOUT", "soon"},
		{"FLOWGATE_PREDICTION_TIMEOUT", "0s"},
		{"FLOWGATE_PREDICTION_TIMEOUT", "-1m"},
		{"FLOWISE_FILE_SIZE_LIMIT", "big"},
		{"FLOWISE_FILE_SIZE_LIMIT", "-5mb"},
		{"SECRETKEY_STORAGE_TYPE", "s3"},
		{"SECRETKEY_STORAGE_TYPE", "AWS"},
		{"SECRETKEY_AWS_ENDPOINT", "localhost:4566"},
		{"SECRETKEY_AWS_ENDPOINT", "ftp://secrets.internal"},
		{"SECRETKEY_AWS_ENDPOINT", "http://"},
		{"FLOWGATE_RATE_LIMIT_IPV6_PREFIX", "0"},
		{"FLOWGATE_RATE_LIMIT_IPV6_PREFIX", "129"},
		{"FLOWGATE_RATE_LIMIT_IPV6_PREFIX", "/64"},
		{"CORS_ORIGINS", "https://a.example; script-src *"},
		{"IFRAME_ORIGINS", "https://a.example;default-src"},
		{"IFRAME_ORIGINS", "'none';"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := config.Load(envOf(map[string]string{tc.name: tc.value}))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.name, "the error names the variable")
			require.Contains(t, err.Error(), tc.value, "the error shows the bad value")
		})
	}
}

func TestLoadAcceptsBoundaryValues(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{
		"PORT": "65535", "WORKER_CONCURRENCY": "100000", "FLOWGATE_PREDICTION_TIMEOUT": "1ms",
		"FLOWGATE_RATE_LIMIT_IPV6_PREFIX": "128",
	}))
	require.NoError(t, err)
	require.Equal(t, 128, c.RateLimitIPv6Prefix)
	require.Equal(t, 65535, c.Port)
	require.Equal(t, 100000, c.WorkerConcurrency)
	require.Equal(t, time.Millisecond, c.PredictionTimeout)
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"50mb", 50 << 20},
		{"50MB", 50 << 20},
		{" 50 mb ", 50 << 20},
		{"1.5kb", 1536},
		{"512kb", 512 << 10},
		{"100", 100},
		{"100b", 100},
		{"1gb", 1 << 30},
		{"0.5gb", 512 << 20},
		{"1", 1},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := config.ParseSize(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseSizeErrors(t *testing.T) {
	for _, in := range []string{
		"", "  ", "mb", "abc", "50 megabytes", "5tb", "-5mb", "0", "0mb", "1,5kb",
		"nan", "NaNmb", "inf", "+Infgb", "1e30gb", "9223372036854775807", "0.0001kb",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := config.ParseSize(in)
			require.Error(t, err)
			require.Zero(t, got)
			require.Contains(t, err.Error(), "size must look like 50mb")
			require.Contains(t, err.Error(), `"`+in+`"`, "the error quotes the input as given")
		})
	}
}

func TestPrivatePaths(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{
		"FLOWGATE_DATA_DIR": "/data", "DATABASE_PATH": "/db", "SECRETKEY_PATH": "/keys", "APIKEY_PATH": "/apikeys",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{
		"/data", "/db", "/db/database.sqlite", "/db/database.sqlite-wal", "/db/database.sqlite-shm",
		"/keys/encryption.key", "/apikeys/api.json",
	}, c.PrivatePaths())

	// Files Flowgate does not use are none of its business.
	c, err = config.Load(envOf(map[string]string{
		"FLOWGATE_DATA_DIR": "/data", "DATABASE_TYPE": "postgres", "FLOWISE_SECRETKEY_OVERWRITE": "k", "APIKEY_STORAGE_TYPE": "db",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{"/data"}, c.PrivatePaths())
}
