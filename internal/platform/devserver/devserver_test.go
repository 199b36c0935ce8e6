package devserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// upperQueue is the task queue of serverWithWorker's worker.
const upperQueue = "upper"

// serverWithWorker starts the embedded server on file and a worker of the "upper" workflow,
// which upper-cases its input in a local activity, as a chatflow prediction runs its model
// call.
func serverWithWorker(t *testing.T, file string) (*Server, client.Client) {
	t.Helper()
	srv, err := Start(Options{DatabaseFile: file, UIPort: -1, Namespace: "default"})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	c, err := client.Dial(client.Options{HostPort: srv.FrontendAddress(), Namespace: "default",
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	w := worker.New(c, upperQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, s string) (string, error) {
		ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
		var out string
		upper := func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
		err := workflow.ExecuteLocalActivity(ctx, upper, s).Get(ctx, &out)
		return out, err
	}, workflow.RegisterOptions{Name: "upper"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	return srv, c
}

// runUpper runs the "upper" workflow as id on in, started eagerly as Flowgate starts a
// prediction, and returns its result.
func runUpper(ctx context.Context, t *testing.T, c client.Client, id, in string) string {
	t.Helper()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: upperQueue, EnableEagerStart: true}, "upper", in)
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	return out
}

// TestUIRefusesForeignHosts: a request whose Host is not the UI's own name (a DNS rebinding
// page's) is refused before the UI sees it; its own names, and configured extra ones, pass.
func TestUIRefusesForeignHosts(t *testing.T) {
	ports, err := freePorts("127.0.0.1", 2)
	require.NoError(t, err)
	// No frontend listens there: the UI's connection to it is lazy, and none of these requests
	// needs it.
	ui, err := startUI("127.0.0.1", ports[0], "127.0.0.1:"+strconv.Itoa(ports[1]), "default", []string{"Temporal.Internal", "ui.example:9999"})
	require.NoError(t, err)
	t.Cleanup(ui.stop)

	get := func(path, host string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+ui.addr+path, nil)
		require.NoError(t, err)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	for _, host := range []string{"evil.example", "evil.example:" + strconv.Itoa(ports[0]), "127.0.0.1.evil.example", "localhost.evil.example", "10.0.0.1"} {
		for _, path := range []string{"/", "/api/v1/settings", "/namespaces/default/workflows"} {
			status, body := get(path, host)
			require.Equal(t, http.StatusForbidden, status, "%s%s", host, path)
			require.Contains(t, body, "FLOWGATE_TEMPORAL_UI_HOSTS")
		}
	}
	for _, host := range []string{ui.addr, "localhost:" + strconv.Itoa(ports[0]), "LOCALHOST", "[::1]:" + strconv.Itoa(ports[0]), "127.0.0.1", "temporal.internal", "ui.example", "temporal.internal."} {
		status, body := get("/api/v1/settings", host)
		require.Equal(t, http.StatusOK, status, "%s: %s", host, body)
	}
	status, body := get("/", "localhost")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, strings.ToLower(body), "<html")
}

// When the UI listens on every interface, any IP address is its own: only names are checked.
func TestUIBoundToAllInterfacesAcceptsIPs(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := uiHosts(ok, "0.0.0.0", nil)
	for host, want := range map[string]int{
		"192.168.1.5:8233": http.StatusOK,
		"[fe80::1]:8233":   http.StatusOK,
		"localhost":        http.StatusOK,
		"evil.example":     http.StatusForbidden,
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Host = host
		h.ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, host)
	}
}

// TestTemporalDatabasesArePrivate: the embedded server's databases hold every run's inputs and
// outputs; they are created 0600 and those an older version left 0644 are tightened.
func TestTemporalDatabasesArePrivate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "temporal.db")
	_, err := sqliteStore(file, "state")
	require.NoError(t, err)
	mode := func(p string) os.FileMode {
		info, err := os.Stat(p)
		require.NoError(t, err)
		return info.Mode().Perm()
	}
	require.Equal(t, os.FileMode(0o600), mode(file))
	require.Equal(t, os.FileMode(0o700), mode(filepath.Dir(file)))

	require.NoError(t, os.Chmod(file, 0o644))
	_, err = sqliteStore(file, "state")
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), mode(file))
}

// TestDatabasePathsTheServerWouldMisread: a path Temporal's plugin would cut short or decode
// is refused, rather than the server and Flowgate's own connections opening different files.
func TestDatabasePathsTheServerWouldMisread(t *testing.T) {
	for _, name := range []string{"a#b", "a?b", "a%41b"} {
		file := filepath.Join(t.TempDir(), name, "temporal.db")
		_, err := sqliteStore(file, "state")
		require.ErrorContains(t, err, "may not contain", name)
		require.NoFileExists(t, file)
	}
	// A % that is no escape reaches SQLite as it is, through either URI.
	_, err := sqliteStore(filepath.Join(t.TempDir(), "50%off", "temporal.db"), "state")
	require.NoError(t, err)
}
