package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/s3test"
)

// touchAPI makes the requests whose log lines the tests look for: one with the key in its
// path, one with it in the Authorization header.
func touchAPI(t *testing.T, p *flowgateProcess) {
	t.Helper()
	resp, err := httpClient.Get(p.api + "/api/v1/verify/apikey/" + p.key)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	req, err := http.NewRequest("GET", p.api+"/api/v1/chatflows", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+p.key)
	resp, err = httpClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// requireRequestLogs checks what a user relies on in shipped logs: the process's own lines and
// one line per request, by route, with no API key anywhere.
func requireRequestLogs(t *testing.T, logs, key string) {
	t.Helper()
	require.Contains(t, logs, `"msg":"flowgate started"`)
	require.Contains(t, logs, `"route":"/api/v1/verify/apikey/:key"`)
	require.Contains(t, logs, `"route":"/api/v1/chatflows"`)
	require.NotContains(t, logs, key, "logs must never contain an API key")
}

// TestLogsShippedToS3 runs the real binary with STORAGE_TYPE=s3: its logs reach the bucket as
// objects under logs/server/, the last segment on the way out.
func TestLogsShippedToS3(t *testing.T) {
	bin := buildFlowgate(t)
	srv := s3test.Start(t)
	const bucket = "flowgate-logs"
	srv.CreateBucket(t, bucket)
	p := startFlowgate(t, bin, t.TempDir(), srv.Env(bucket)...)
	touchAPI(t, p)
	p.interrupt(t)

	keys := listKeys(t, srv, bucket, "logs/server/")
	require.NotEmpty(t, keys, "no log objects in the bucket")
	var all strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, k := range keys {
		out, err := srv.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		require.NoError(t, err)
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		require.NoError(t, err)
		all.Write(b)
	}
	requireRequestLogs(t, all.String(), p.key)
}

// TestLogsRotatedToLocalFiles: with local storage, logs go to files under LOG_PATH.
func TestLogsRotatedToLocalFiles(t *testing.T) {
	bin := buildFlowgate(t)
	home := t.TempDir()
	logDir := filepath.Join(t.TempDir(), "logs")
	p := startFlowgate(t, bin, home, "LOG_PATH="+logDir)
	touchAPI(t, p)
	p.interrupt(t)

	files, err := filepath.Glob(filepath.Join(logDir, "server-*.log"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all.Write(b)
	}
	requireRequestLogs(t, all.String(), p.key)
}
