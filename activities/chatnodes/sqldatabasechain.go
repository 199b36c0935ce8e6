package chatnodes

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/flowgate/flowgate/activities/nodekit"
	"github.com/flowgate/flowgate/internal/flowise/chatflow"
	"github.com/flowgate/flowgate/internal/providers/llm"
	"github.com/flowgate/flowgate/models"
	"github.com/flowgate/flowgate/workflows/node"
)

// sqlPrompt is LangChain's default SqlDatabaseChain prompt, which Flowise uses unless the node
// has a Custom Prompt.
const sqlPrompt = `Given an input question, first create a syntactically correct {dialect} query to run, then look at the results of the query and return the answer. Unless the user specifies in his question a specific number of examples he wishes to obtain, always limit your query to at most {top_k} results using the LIMIT clause. You can order the results by a relevant column to return the most interesting examples in the database.

Never query for all the columns from a specific table, only ask for a the few relevant columns given the question.

Pay attention to use only the column names that you can see in the schema description. Be careful to not query for columns that do not exist. Also, pay attention to which column is in which table.

Use the following format:

Question: "Question here"
SQLQuery: "SQL Query to run"
SQLResult: "Result of the SQLQuery"
Answer: "Final answer here"

Only use the following tables:
{table_info}

Question: {input}`

// Bounds of one query the model wrote: it runs read-only, within sqlDeadline, and what it
// returns is cut at sqlMaxRows rows and sqlMaxBytes of JSON.
const (
	sqlDeadline = 20 * time.Second
	sqlMaxRows  = 200
	sqlMaxBytes = 64 << 10
)

// SQLDatabaseChain answers a question from a database (SQLite file, PostgreSQL, or MySQL and
// MariaDB), as LangChain's SqlDatabaseChain does for Flowise: the model writes a query from
// the tables' schema (and sample rows), the chain runs it in a read-only transaction with a
// deadline and bounds on what it reads, and the model answers from the result. Only the
// answer streams.
func (n *Nodes) SQLDatabaseChain(ctx context.Context, req node.Request) (node.Value, error) {
	nd := req.Node
	model, err := upstreamModel(req, "model")
	if err != nil {
		return node.Value{}, err
	}
	question, err := n.question(ctx, req.Run)
	if err != nil {
		return node.Value{}, err
	}
	if refusal, refused, err := n.moderate(ctx, req, question); err != nil || refused {
		return node.TextValue(nd.Data.Name, refusal), err
	}
	// The connection string may hold a password: the plan leaves it out of history.
	addr, err := n.SecretInput(ctx, req.Run.ChatflowID, nd.ID, "url", nd.Input("url"))
	if err != nil {
		return node.Value{}, err
	}
	db, dialect, err := openSQL(nd, addr)
	if err != nil {
		return node.Value{}, err
	}
	defer db.Close()
	samples := 3
	if s := nd.Input("sampleRowsInTableInfo"); s != "" {
		if samples, err = strconv.Atoi(s); err != nil || samples < 0 {
			return node.Value{}, nodekit.FlowError("%s: sampleRowsInTableInfo must be a whole number, got %q", nd.ID, s)
		}
	}
	info, err := tableInfo(ctx, db, dialect, tableList(nd.Input("includesTables")), tableList(nd.Input("ignoreTables")), samples)
	if err != nil {
		return node.Value{}, fmt.Errorf("%s: read the database's schema: %w", nd.ID, err)
	}
	topK := cmp.Or(nd.Input("topK"), "5")
	template := cmp.Or(nd.Input("customPrompt"), sqlPrompt)
	ask := func(input string, topic string) (string, error) {
		prompt, err := chatflow.FormatTemplate(template, map[string]string{"dialect": dialect, "top_k": topK, "table_info": info, "input": input})
		if err != nil {
			return "", nodekit.Classify(fmt.Errorf("%s: %w", nd.ID, err))
		}
		return n.Chat(ctx, nodekit.Chat{NodeID: nd.ID, Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}}, StreamTo: topic})
	}
	query, err := ask(question+"\nSQLQuery:", "")
	if err != nil {
		return node.Value{}, err
	}
	query, _, _ = strings.Cut(query, "\nSQLResult:")
	query = strings.TrimSpace(query)
	result := runReadOnly(ctx, db, dialect, query)
	answer, err := ask(question+"\nSQLQuery:"+query+"\nSQLResult:"+result+"\nAnswer:", streamTo(req))
	if err != nil {
		return node.Value{}, err
	}
	return node.TextValue(nd.Data.Name, strings.TrimSpace(answer)), nil
}

func tableList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// openSQL opens the node's database at addr; the dialect is the name the prompt gives it.
func openSQL(nd chatflow.Node, addr string) (*sql.DB, string, error) {
	kind := cmp.Or(nd.Input("database"), "sqlite")
	if addr == "" {
		return nil, "", nodekit.FlowError("%s: the database has no connection string", nd.ID)
	}
	var driver, dsn string
	switch kind {
	case "sqlite":
		// Read-only at the file and at the connection. A path carrying URI parameters of its
		// own could turn both off (a second mode, a later query_only pragma), so it is refused;
		// the rest of the path is escaped into the URL as the project's own databases' are.
		path := strings.TrimPrefix(addr, "file:")
		if strings.ContainsAny(path, "?#") {
			return nil, "", nodekit.FlowError("%s: the SQLite database path may not carry URI parameters ('?' or '#')", nd.ID)
		}
		driver, dsn = "sqlite", models.SQLiteDSN(path, "mode=ro", "_pragma=query_only(1)", "_pragma=busy_timeout(5000)")
	case "postgres":
		driver, dsn = "pgx", addr
		if !strings.Contains(addr, "://") {
			dsn = "postgres://" + addr
		}
	case "mysql", "mariadb":
		u, err := url.Parse(addr)
		if err != nil || !strings.Contains(addr, "://") {
			u, err = url.Parse("mysql://" + addr)
		}
		if err != nil {
			// url.Parse's error quotes the whole string, password included.
			return nil, "", nodekit.FlowError("%s: the MySQL connection string is not a URL", nd.ID)
		}
		cfg := mysql.NewConfig()
		cfg.Net, cfg.Addr, cfg.DBName = "tcp", u.Host, strings.TrimPrefix(u.Path, "/")
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Timeout = 10 * time.Second
		kind, driver, dsn = "mysql", "mysql", cfg.FormatDSN()
	default:
		return nil, "", nodekit.FlowError("%s: Flowgate's SQL Database Chain reads SQLite, PostgreSQL and MySQL databases, not %s", nd.ID, kind)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, "", nodekit.FlowError("%s: %v", nd.ID, err)
	}
	db.SetMaxOpenConns(1)
	return db, kind, nil
}

// tableInfo describes the tables as LangChain's SqlDatabase does: each table's CREATE TABLE
// and a few of its rows.
func tableInfo(ctx context.Context, db *sql.DB, dialect string, include, ignore []string, samples int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, sqlDeadline)
	defer cancel()
	var q string
	switch dialect {
	case "sqlite":
		q = `SELECT m.name, p.name, p.type, p."notnull" FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`
	case "postgres":
		q = `SELECT table_name, column_name, data_type, CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
	default:
		q = `SELECT table_name, column_name, data_type, CASE is_nullable WHEN 'NO' THEN 1 ELSE 0 END FROM information_schema.columns
			WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var order []string
	tables := map[string][]string{}
	for rows.Next() {
		var table, col, typ string
		var notNull int
		if err := rows.Scan(&table, &col, &typ, &notNull); err != nil {
			return "", err
		}
		if len(include) > 0 && !slices.Contains(include, table) || slices.Contains(ignore, table) {
			continue
		}
		if _, seen := tables[table]; !seen {
			order = append(order, table)
		}
		def := col + " " + typ
		if notNull == 1 {
			def += " NOT NULL"
		}
		tables[table] = append(tables[table], def)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(order) == 0 {
		return "", errors.New("no tables to use")
	}
	var b strings.Builder
	for _, t := range order {
		fmt.Fprintf(&b, "CREATE TABLE %s (\n%s) \n", t, strings.Join(tables[t], ", "))
		if samples > 0 {
			quoted := `"` + t + `"`
			if dialect == "mysql" {
				quoted = "`" + t + "`"
			}
			sample := fmt.Sprintf("SELECT * FROM %s LIMIT %d;", quoted, samples)
			fmt.Fprintf(&b, "%s\n%s\n", sample, sampleRows(ctx, db, sample))
		}
	}
	return b.String(), nil
}

// sampleRows are a table's first rows as LangChain lists them: a header line, then one line
// per row, values separated by spaces.
func sampleRows(ctx context.Context, db *sql.DB, q string) string {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return ""
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	lines := []string{" " + strings.Join(cols, " ")}
	for rows.Next() {
		vals, err := scanRow(rows, len(cols))
		if err != nil {
			break
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = fmt.Sprint(cmp.Or[any](v, ""))
		}
		lines = append(lines, " "+strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}

func scanRow(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, v := range vals {
		switch t := v.(type) {
		case []byte:
			vals[i] = string(t)
		case time.Time:
			vals[i] = t.Format(time.RFC3339Nano)
		}
	}
	return vals, nil
}

// readStatement is what a query the model wrote may start with.
var readStatement = regexp.MustCompile(`(?is)^\s*(select|with|values|show|explain|describe|desc|table)\b`)

// runReadOnly runs the model's query in a read-only transaction and returns the result as
// the JSON the model reads (an array of row objects), or the error as text for it to explain:
// a query the model got wrong is part of the conversation, not a failure of the run.
func runReadOnly(ctx context.Context, db *sql.DB, dialect, query string) string {
	query = strings.TrimSpace(strings.Trim(strings.TrimSpace(query), "`\""))
	query = strings.TrimSuffix(strings.TrimPrefix(query, "sql\n"), ";")
	if !readStatement.MatchString(query) || strings.Contains(query, ";") {
		return `"Error: only a single read-only query may run"`
	}
	ctx, cancel := context.WithTimeout(ctx, sqlDeadline)
	defer cancel()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: dialect != "sqlite"})
	if err != nil {
		return errorResult(err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if dialect == "postgres" {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", sqlDeadline.Milliseconds())); err != nil {
			return errorResult(err)
		}
	}
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return errorResult(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return errorResult(err)
	}
	out, size := []json.RawMessage{}, 2
	for rows.Next() && len(out) < sqlMaxRows {
		vals, err := scanRow(rows, len(cols))
		if err != nil {
			return errorResult(err)
		}
		obj := make(map[string]any, len(cols))
		for i, c := range cols {
			obj[c] = vals[i]
		}
		raw, err := marshal(obj)
		if err != nil {
			return errorResult(err)
		}
		if size += len(raw) + 1; size > sqlMaxBytes {
			break
		}
		out = append(out, raw)
	}
	if err := rows.Err(); err != nil {
		return errorResult(err)
	}
	raw, _ := json.Marshal(out)
	return string(raw)
}

func errorResult(err error) string {
	raw, _ := json.Marshal("Error: " + err.Error())
	return string(raw)
}
