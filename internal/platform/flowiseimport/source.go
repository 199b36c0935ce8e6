package flowiseimport

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/flowgate/flowgate/internal/platform/config"
	"github.com/flowgate/flowgate/internal/platform/secrets"
	"github.com/flowgate/flowgate/models"
)

// Source is a Flowise deployment as its own settings describe it: where its database is
// (DATABASE_*) and where its encryption key is (FLOWISE_SECRETKEY_OVERWRITE, SECRETKEY_*).
type Source struct {
	Database models.DBConfig
	Key      secrets.KeySourceConfig
}

// SourceFromEnv reads a Flowise deployment's settings with Flowise's names and defaults:
// SQLite in ~/.flowise unless DATABASE_TYPE says otherwise, the key file in SECRETKEY_PATH
// (default ~/.flowise), FLOWISE_SECRETKEY_OVERWRITE before everything, AWS Secrets Manager with
// SECRETKEY_STORAGE_TYPE=aws. getenv reads the Flowise .env, never Flowgate's environment: the
// two use the same names for their own databases and keys.
func SourceFromEnv(getenv func(string) string) (Source, error) {
	flowiseDir := filepath.Join(config.HomeDir(), ".flowise")
	s := Source{Database: config.Database(getenv, flowiseDir), Key: config.KeySource(getenv, flowiseDir)}
	raw := strings.TrimSpace(getenv("DATABASE_PORT"))
	if raw == "" {
		raw = "5432"
	}
	port, err := strconv.Atoi(raw)
	if err != nil || port <= 0 || port > 65535 {
		return s, fmt.Errorf("Flowise's DATABASE_PORT must be a port number, got %q", raw)
	}
	s.Database.Port = port
	switch s.Database.Type {
	case "sqlite", "postgres":
	default:
		return s, fmt.Errorf("Flowise's DATABASE_TYPE %q cannot be imported (sqlite or postgres)", s.Database.Type)
	}
	return s, nil
}

// maxEnvFile bounds a .env file: Flowise's has a few dozen lines.
const maxEnvFile = 1 << 20

// ReadEnvFile reads a .env file as dotenv does: NAME=value lines, "export " allowed before
// the name, # comments, values in single or double quotes (double quotes take \n), and a
// " #" comment after an unquoted value.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read Flowise settings: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxEnvFile+1))
	if err != nil {
		return nil, fmt.Errorf("read Flowise settings %s: %w", path, err)
	}
	if len(b) > maxEnvFile {
		return nil, fmt.Errorf("read Flowise settings %s: larger than %d bytes, not a .env file", path, maxEnvFile)
	}
	return ParseEnv(b)
}

// ParseEnv parses the text of a .env file (see ReadEnvFile).
func ParseEnv(b []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxEnvFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\"'") {
			return nil, fmt.Errorf(".env line %d is not NAME=value", n)
		}
		out[name] = envValue(strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read .env: %w", err)
	}
	return out, nil
}

func envValue(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			inner := v[1 : end+1]
			if v[0] == '"' {
				inner = strings.ReplaceAll(inner, `\n`, "\n")
			}
			return inner
		}
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}

// Describe names the source without its secrets, for the summary.
func (s Source) Describe() string {
	if s.Database.Type == "postgres" {
		// PostgresDSN's URL, with the password and the connection options left out.
		u, err := url.Parse(models.PostgresDSN(s.Database))
		if err != nil {
			return "Flowise PostgreSQL database " + s.Database.Name
		}
		if s.Database.User != "" {
			u.User = url.User(s.Database.User)
		} else {
			u.User = nil
		}
		u.RawQuery = ""
		return "Flowise PostgreSQL database " + u.String()
	}
	return "Flowise SQLite database " + s.SQLiteFile()
}

// SQLiteFile is the SQLite database file the source names.
func (s Source) SQLiteFile() string { return sqliteFile(s.Database.Path) }

// sqliteFile is the database file of a DATABASE_PATH: Flowise's database.sqlite in that
// directory, or the path itself when it names a file.
func sqliteFile(path string) string {
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		return path
	}
	return filepath.Join(path, "database.sqlite")
}

// ReadKey reads the deployment's encryption key where Flowise would, creating nothing.
func (s Source) ReadKey(ctx context.Context) (*secrets.Cipher, error) {
	k, err := secrets.ReadKey(ctx, s.Key)
	if err != nil {
		return nil, fmt.Errorf("Flowise's encryption key: %w", err)
	}
	return secrets.NewCipher(k), nil
}

// newestKnownMigration is the last migration Flowise 3.1.2 applies; a database that has newer
// ones is read all the same when the columns an import needs are there, with a note.
const newestKnownMigration = 1765360298674

// SchemaError is a source whose schema is not one Flowgate can read: a table or columns an
// import needs are missing.
type SchemaError struct {
	Table   string
	Missing []string // columns; empty when the whole table is missing
}

func (e *SchemaError) Error() string {
	if len(e.Missing) == 0 {
		return fmt.Sprintf("unknown Flowise schema: table %s is missing", e.Table)
	}
	return fmt.Sprintf("unknown Flowise schema: table %s lacks column(s) %s", e.Table, strings.Join(e.Missing, ", "))
}

// ReadDatabase reads a Flowise database without writing to it. PostgreSQL is read in one
// read-only repeatable-read transaction, so every table comes from the same moment of a
// deployment that may still be running. SQLite is opened read-only and each table is read by
// a statement of its own: a reader holds a shared lock that makes Flowise's writes fail
// (Flowise sets no busy timeout), so no lock is held across tables; for a consistent copy of
// a live SQLite deployment, stop Flowise or import from a copy of its file (docs/migrating.md).
// It checks the schema first, then converts every row, opening credentials with the
// deployment's key.
func ReadDatabase(ctx context.Context, src Source, messages bool) (*Data, error) {
	db, dialect, err := openSource(ctx, src)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	r := &reader{q: db, d: dialect}
	if dialect.snapshot {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src.Describe(), err)
		}
		defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
		// Dates are read as text, whose form follows the session's DateStyle: fix it.
		if _, err := tx.ExecContext(ctx, `SET LOCAL datestyle = 'ISO, YMD'`); err != nil {
			return nil, fmt.Errorf("read %s: %w", src.Describe(), err)
		}
		r.q = tx
	}
	newest, err := r.checkSchema(ctx, messages)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.Describe(), err)
	}
	rows := map[string][]row{}
	for _, t := range tables {
		if t.messages && !messages {
			continue
		}
		if rows[t.name], err = r.readTable(ctx, t); err != nil {
			return nil, fmt.Errorf("%s: %w", src.Describe(), err)
		}
	}
	var key *secrets.Cipher
	if len(rows["credential"]) > 0 {
		if key, err = src.ReadKey(ctx); err != nil {
			return nil, err
		}
	}
	data, err := convert(rows, key)
	if err != nil {
		return nil, err
	}
	if err := r.leftovers(ctx, data, messages); err != nil {
		return nil, fmt.Errorf("%s: %w", src.Describe(), err)
	}
	if n, _ := strconv.ParseInt(migrationStamp(newest), 10, 64); n > newestKnownMigration {
		data.Notes = append(data.Notes, fmt.Sprintf("the source's newest migration %s is newer than Flowise 3.1.2's; the columns Flowgate reads are all there", newest))
	}
	return data, nil
}

// migrationStamp is the timestamp at the end of a TypeORM migration's name.
func migrationStamp(name string) string {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	return name[i:]
}

// dialect is what differs between the two databases when reading.
type dialect struct {
	tables string // lists the tables
	asText func(column string) string
	// snapshot reads every table in one repeatable-read transaction.
	snapshot bool
}

var (
	sqliteDialect = dialect{
		tables: `SELECT name FROM sqlite_master WHERE type = 'table'`,
		asText: func(c string) string { return `CAST(` + quote(c) + ` AS TEXT)` },
	}
	postgresDialect = dialect{
		tables:   `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
		asText:   func(c string) string { return quote(c) + `::text` },
		snapshot: true,
	}
)

// queryer is a database or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func openSource(ctx context.Context, src Source) (*sql.DB, dialect, error) {
	var (
		db  *sql.DB
		d   dialect
		err error
	)
	switch src.Database.Type {
	case "postgres":
		d = postgresDialect
		db, err = sql.Open("pgx", models.PostgresDSN(src.Database))
	default:
		d = sqliteDialect
		file := sqliteFile(src.Database.Path)
		if _, err := os.Stat(file); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, d, fmt.Errorf("no Flowise database at %s (set DATABASE_PATH as the deployment had it)", file)
			}
			return nil, d, fmt.Errorf("read %s: %w", file, err)
		}
		// mode=ro: SQLite itself refuses every write, and a running Flowise may keep writing.
		db, err = sql.Open("sqlite", models.SQLiteDSN(file, "mode=ro", "_pragma=busy_timeout(10000)"))
	}
	if err != nil {
		return nil, d, fmt.Errorf("open %s: %w", src.Describe(), err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, d, fmt.Errorf("connect to %s: %w", src.Describe(), err)
	}
	return db, d, nil
}

// reader reads one source, in its read-only transaction where the dialect takes a snapshot.
type reader struct {
	q       queryer
	d       dialect
	columns map[string][]string // of each table read
	// present are the source's tables; extra the columns of each table read that Flowgate
	// does not keep.
	present map[string]bool
	extra   map[string][]string
}

// leftBehind are the Flowise tables whose rows Flowgate does not import, with what they hold.
var leftBehind = []struct{ table, what string }{
	{"assistant", "assistants"},
	{"custom_template", "custom templates"},
	{"evaluation", "evaluations"},
	{"evaluator", "evaluators"},
	{"dataset", "datasets"},
	{"chat_message", "chat messages"},
	{"chat_message_feedback", "chat message feedback rows"},
	{"lead", "leads"},
	{"execution", "executions"},
}

// leftovers counts the rows an import leaves in the source: whole tables Flowgate has no place
// for (or chat history not asked for), and columns of the tables read that hold data Flowgate
// does not keep.
func (r *reader) leftovers(ctx context.Context, data *Data, messages bool) error {
	for _, t := range leftBehind {
		if !r.present[t.table] || (messages && r.columns[t.table] != nil) {
			continue
		}
		var n int
		if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quote(t.table)).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %w", t.table, err)
		}
		if n > 0 {
			why := "not supported by Flowgate"
			if r.columns[t.table] == nil && slices.ContainsFunc(tables, func(k table) bool { return k.name == t.table }) {
				why = "chat history: add --messages to move it"
			}
			data.Skipped[fmt.Sprintf("%s (%s)", t.what, why)] += n
		}
	}
	workspaces := false
	for _, t := range tables {
		for _, c := range r.extra[t.name] {
			if c == "workspaceId" {
				// On every row of Flowise 3: one note for all tables, not one each.
				workspaces = true
				continue
			}
			var n int
			q := `SELECT COUNT(*) FROM ` + quote(t.name) + ` WHERE ` + quote(c) + ` IS NOT NULL`
			if err := r.q.QueryRowContext(ctx, q).Scan(&n); err != nil {
				return fmt.Errorf("count %s.%s: %w", t.name, c, err)
			}
			if n > 0 {
				data.Notes = append(data.Notes, fmt.Sprintf("%s.%s: %d rows hold a value Flowgate does not keep; it stays behind", t.name, c, n))
			}
		}
	}
	if workspaces {
		data.Notes = append(data.Notes, "Flowise's workspaceId of each row stays behind: a Flowgate is one workspace")
	}
	return nil
}

// checkSchema makes sure this is a Flowise database with every column an import reads, and
// returns its newest migration.
func (r *reader) checkSchema(ctx context.Context, messages bool) (string, error) {
	present := map[string]bool{}
	rows, err := r.q.QueryContext(ctx, r.d.tables)
	if err != nil {
		return "", fmt.Errorf("list tables: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return "", fmt.Errorf("list tables: %w", err)
		}
		present[name] = true
	}
	rows.Close()
	r.present, r.extra = present, map[string][]string{}
	if !present["migrations"] {
		return "", errors.New("not a Flowise database: it has no migrations table")
	}
	var newest string
	err = r.q.QueryRowContext(ctx, `SELECT name FROM migrations ORDER BY "timestamp" DESC LIMIT 1`).Scan(&newest)
	if err != nil {
		return "", fmt.Errorf("read Flowise's migrations: %w", err)
	}
	r.columns = map[string][]string{}
	for _, t := range tables {
		if t.messages && !messages {
			continue
		}
		if !present[t.name] {
			return "", &SchemaError{Table: t.name}
		}
		have, err := r.tableColumns(ctx, t.name)
		if err != nil {
			return "", err
		}
		var missing []string
		for _, c := range t.required {
			if !have[c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return "", &SchemaError{Table: t.name, Missing: missing}
		}
		cols := append([]string(nil), t.required...)
		for _, c := range t.optional {
			if have[c] {
				cols = append(cols, c)
			}
		}
		r.columns[t.name] = cols
		for c := range have {
			if !slices.Contains(cols, c) {
				r.extra[t.name] = append(r.extra[t.name], c)
			}
		}
		slices.Sort(r.extra[t.name])
	}
	return newest, nil
}

func (r *reader) tableColumns(ctx context.Context, name string) (map[string]bool, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT * FROM `+quote(name)+` WHERE 1 = 0`)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", name, err)
	}
	have := make(map[string]bool, len(cols))
	for _, c := range cols {
		have[c] = true
	}
	return have, nil
}

// readTable reads every row of t, each column as text.
func (r *reader) readTable(ctx context.Context, t table) ([]row, error) {
	cols := r.columns[t.name]
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = r.d.asText(c)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+quote(t.name))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.name, err)
	}
	defer rows.Close()
	var out []row
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s row %d: %w", t.name, len(out)+1, err)
		}
		rw := make(row, len(cols))
		for i, c := range cols {
			if vals[i].Valid {
				s := vals[i].String
				rw[c] = &s
			}
		}
		out = append(out, rw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", t.name, err)
	}
	return out, nil
}
