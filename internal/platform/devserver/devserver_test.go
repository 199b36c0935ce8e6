package devserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
