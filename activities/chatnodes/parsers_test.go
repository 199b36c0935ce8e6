package chatnodes

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/flowise/zod"
	"github.com/flowgate/flowgate/workflows/node"
)

func TestParseAnswer(t *testing.T) {
	typ, err := zod.Parse(`z.object({ name: z.string(), tags: z.array(z.string()).max(2), n: z.number().int().optional() })`)
	require.NoError(t, err)
	p := &node.Parser{Kind: "advancedStructuredOutputParser", Schema: typ.JSONSchema()}

	// Fenced, with prose around and a trailing comma, keys in the model's order.
	out, err := parseAnswer(p, "Sure!\n```json\n{\"tags\": [\"a\", \"b\",], \"name\": \"x\"}\n```\nanything else?")
	require.NoError(t, err)
	require.Equal(t, `{"tags":["a","b"],"name":"x"}`, string(out))

	_, err = parseAnswer(p, `{"name": "x", "tags": ["a", "b", "c"]}`)
	require.ErrorContains(t, err, "tags: must contain at most 2 element(s)")
	_, err = parseAnswer(p, `no JSON here`)
	require.ErrorContains(t, err, "Failed to parse. Text:")

	list := &node.Parser{Kind: "customListOutputParser", Separator: "|", Length: 3}
	out, err = parseAnswer(list, " a | b |c ")
	require.NoError(t, err)
	require.Equal(t, `["a","b","c"]`, string(out))
	_, err = parseAnswer(list, "a|b")
	require.EqualError(t, err, "Incorrect number of items. Expected 3, got 2.")
	require.Equal(t, "Your response should be a list of 3 items separated by \"|\" (eg: `foo| bar| baz`)", instructions(list))
}

func TestWithInstructions(t *testing.T) {
	p := &node.Parser{Kind: "csvOutputParser"}
	got := withInstructions(&node.Prompt{System: "sys", Human: "{text}", Values: map[string]string{"a": "b"}}, p)
	require.Equal(t, "sys\n{format_instructions}", got.System)
	require.Equal(t, "{text}", got.Human)
	require.Equal(t, instructions(p), got.Values["format_instructions"])
	msgs, err := messages(got, "q")
	require.NoError(t, err)
	require.Equal(t, "sys\nYour response should be a list of comma separated values, eg: `foo, bar, baz`", msgs[0].Content)
	require.Equal(t, "q", msgs[1].Content)
}

// The model's query runs read-only: writes are refused before they run, and a write hidden
// in a read statement fails in the read-only connection.
func TestRunReadOnlySQLite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "db.sqlite")
	rw, err := sql.Open("sqlite", file)
	require.NoError(t, err)
	_, err = rw.Exec(`CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2)`)
	require.NoError(t, err)
	require.NoError(t, rw.Close())

	nd := node.Request{}.Node
	nd.ID, nd.Data.Inputs = "sql_0", map[string]any{"database": "sqlite", "url": file}
	db, dialect, err := openSQL(nd, nd.Input("url"))
	require.NoError(t, err)
	defer db.Close()
	ctx := context.Background()
	require.Equal(t, `[{"v":1},{"v":2}]`, runReadOnly(ctx, db, dialect, "SELECT v FROM t ORDER BY v;"))
	for _, q := range []string{"DELETE FROM t", "SELECT 1; DELETE FROM t", "DROP TABLE t"} {
		require.Equal(t, `"Error: only a single read-only query may run"`, runReadOnly(ctx, db, dialect, q), q)
	}
	res := runReadOnly(ctx, db, dialect, "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x")
	require.True(t, strings.HasPrefix(res, `"Error: `), res)
	require.Equal(t, `[{"n":2}]`, runReadOnly(ctx, db, dialect, "SELECT COUNT(*) AS n FROM t"), "nothing was written")

	// A path cannot carry URI parameters that would reopen the file writable.
	for _, addr := range []string{file + "?_pragma=query_only(0)", "file:" + file + "?mode=rw", file + "#x"} {
		_, _, err := openSQL(nd, addr)
		require.ErrorContains(t, err, "may not carry URI parameters", addr)
	}

	// Bounded: at most sqlMaxRows rows.
	big := runReadOnly(ctx, db, dialect, fmt.Sprintf("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < %d) SELECT i FROM c", sqlMaxRows*3))
	require.Equal(t, sqlMaxRows, strings.Count(big, `"i"`))
}

func TestRunReadOnlyPostgres(t *testing.T) {
	nd := node.Request{}.Node
	nd.ID, nd.Data.Inputs = "sql_0", map[string]any{"database": "postgres", "url": "postgres@127.0.0.1:5432/postgres"}
	db, dialect, err := openSQL(nd, nd.Input("url"))
	require.NoError(t, err)
	defer db.Close()
	if db.Ping() != nil {
		t.Skip("no PostgreSQL at 127.0.0.1:5432")
	}
	res := runReadOnly(context.Background(), db, dialect, "WITH x AS (SELECT 1) SELECT * FROM x, LATERAL (SELECT pg_catalog.set_config('a.b', 'c', false)) s")
	require.NotContains(t, res, "Error", res)
	res = runReadOnly(context.Background(), db, dialect, "WITH d AS (DELETE FROM pg_catalog.pg_class WHERE false RETURNING 1) SELECT * FROM d")
	require.Contains(t, res, "read-only transaction", res)
}
