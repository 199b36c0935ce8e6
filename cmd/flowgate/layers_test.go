package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/flowgate/flowgate"

// deps lists the packages pkg imports, directly or not, as go list reports them.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	require.NoError(t, err, "go list -deps %s", pkg)
	return strings.Fields(string(out))
}

// forbidden lists the dependencies of pkg that are one of paths or sit below one ending in
// "/...".
func forbidden(t *testing.T, pkg string, paths ...string) []string {
	var bad []string
	for _, d := range deps(t, pkg) {
		for _, p := range paths {
			if d == p || (strings.HasSuffix(p, "/...") && strings.HasPrefix(d, strings.TrimSuffix(p, "..."))) {
				bad = append(bad, d)
			}
		}
	}
	return bad
}

// TestLayers holds the rules of docs/architecture.md: the tree is a prediction's path and
// packages import only downward.
func TestLayers(t *testing.T) {
	t.Run("workflows reach no database, HTTP server or provider SDK", func(t *testing.T) {
		// Workflow code replays deterministically: it may not do I/O, so it may not even link
		// what does it.
		bad := forbidden(t, module+"/workflows/...",
			"gorm.io/...", "database/sql", "modernc.org/sqlite", "github.com/jackc/pgx/v5/...",
			"github.com/gin-gonic/gin",
			"github.com/openai/openai-go/v3", "github.com/anthropics/anthropic-sdk-go", "github.com/aws/aws-sdk-go-v2/...",
			module+"/api", module+"/activities/...", module+"/models", module+"/internal/providers/...",
			module+"/internal/storage/...", module+"/internal/platform/...", module+"/internal/knowledge/...", module+"/internal/sandbox/...")
		require.Empty(t, bad)
	})
	t.Run("models import nothing of ours", func(t *testing.T) {
		var bad []string
		for _, d := range deps(t, module+"/models") {
			if strings.HasPrefix(d, module+"/") && d != module+"/models" {
				bad = append(bad, d)
			}
		}
		require.Empty(t, bad)
	})
	t.Run("the API runs no node work", func(t *testing.T) {
		require.Empty(t, forbidden(t, module+"/api", module+"/activities/...", module+"/internal/providers/...",
			"github.com/openai/openai-go/v3", "github.com/anthropics/anthropic-sdk-go"))
	})
	t.Run("production code never imports the test kit", func(t *testing.T) {
		out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").Output()
		require.NoError(t, err)
		var bad []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fields := strings.Fields(line)
			pkg, imports := fields[0], fields[1:]
			if strings.HasPrefix(pkg, module+"/internal/testkit") {
				continue
			}
			for _, imp := range imports {
				// The load tool's own benchmark setup starts the mock model on purpose (bench
				// matrix); it says so where it imports it.
				if pkg == module+"/internal/loadtest" && imp == module+"/internal/testkit/llmmock" {
					continue
				}
				if strings.HasPrefix(imp, module+"/internal/testkit") {
					bad = append(bad, pkg+" -> "+imp)
				}
			}
		}
		require.Empty(t, bad)
	})
}

// TestRootHoldsTheDesign keeps the root to the design's folders: everything else lives under
// internal/, grouped by role.
func TestRootHoldsTheDesign(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}", module+"/...").Output()
	require.NoError(t, err)
	allowed := []string{"cmd", "api", "workflows", "activities", "models", "internal", "e2e"}
	for _, pkg := range strings.Fields(string(out)) {
		top, _, _ := strings.Cut(strings.TrimPrefix(pkg, module+"/"), "/")
		require.True(t, slices.Contains(allowed, top), "package %s sits at the root; move it under internal/", pkg)
	}
}
