package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	// The pure-Go SQLite driver, registered as "sqlite". The embedded Temporal server links the
	// same one, so one registration serves both and no cgo is needed.
	modernc "modernc.org/sqlite"
)

// DBConfig selects and configures the database, with Flowise's setting names.
type DBConfig struct {
	Type     string // "sqlite" (default) or "postgres"
	Path     string // SQLite: directory holding database.sqlite
	Host     string
	Port     int
	Name     string
	User     string
	Password string
	SSL      bool
	// MaxOpenConns bounds the pool (Postgres; FLOWGATE_DATABASE_POOL_SIZE, default 10). SQLite
	// uses a small fixed pool because it has one writer.
	MaxOpenConns int
}

// Open connects, bounds the pool and applies migrations.
func Open(ctx context.Context, cfg DBConfig) (*gorm.DB, error) {
	gcfg := &gorm.Config{Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
	var (
		db  *gorm.DB
		err error
	)
	switch cfg.Type {
	case "", "sqlite":
		if err := os.MkdirAll(cfg.Path, 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		file := filepath.Join(cfg.Path, "database.sqlite")
		if err := createPrivate(file); err != nil {
			return nil, fmt.Errorf("create database file: %w", err)
		}
		// WAL lets readers run beside the writer; IMMEDIATE transactions take the write lock up
		// front so two writers queue on busy_timeout instead of failing with SQLITE_BUSY.
		dsn := SQLiteDSN(file, "_pragma=busy_timeout(10000)", "_pragma=journal_mode(WAL)", "_pragma=synchronous(NORMAL)",
			"_pragma=foreign_keys(1)", "_txlock=immediate")
		var conns *sql.DB
		if conns, err = OpenCachingSQLite(dsn, 0); err == nil {
			if db, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite", Conn: conns}), gcfg); err != nil {
				_ = conns.Close()
			}
		}
		if err == nil {
			setPool(db, 4)
		}
	case "postgres":
		db, err = gorm.Open(postgres.Open(PostgresDSN(cfg)), gcfg)
		if err == nil {
			setPool(db, cmp.Or(cfg.MaxOpenConns, 10))
		}
	default:
		return nil, fmt.Errorf("DATABASE_TYPE %q is not supported (use sqlite or postgres)", cfg.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Type, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sqlDB, _ := db.DB()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		return nil, fmt.Errorf("connect to %s database: %w", cfg.Type, err)
	}
	// Another process may hold the migration lock while it migrates; wait for it, but not
	// for ever.
	migrateCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := Migrate(db.WithContext(migrateCtx)); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// OpenCachingSQLite opens the SQLite database at dsn with connections that keep up to
// statements compiled statements each (stmtcache.go); 0 keeps stmtCacheSize.
func OpenCachingSQLite(dsn string, statements int) (*sql.DB, error) {
	connector, err := modernc.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(&stmtCachingConnector{Connector: connector, size: statements}), nil
}

// IsUniqueViolation reports whether err is a unique constraint refusing a write, on either
// database: for writers outside this package, such as an import.
func IsUniqueViolation(err error) bool { return isUniqueViolation(err) }

// ErrNoDatabase is a Flowgate database that does not exist yet.
var ErrNoDatabase = errors.New("no Flowgate database yet")

// OpenReadOnly connects to an existing database without creating or migrating anything: SQLite
// opened with mode=ro (ErrNoDatabase when the file is missing), PostgreSQL as it is. It is for
// runs that must write nothing, such as an import's dry run; the caller keeps its queries
// inside a transaction it rolls back.
func OpenReadOnly(ctx context.Context, cfg DBConfig) (*gorm.DB, error) {
	gcfg := &gorm.Config{Logger: logger.Discard}
	var dialector gorm.Dialector
	switch cfg.Type {
	case "", "sqlite":
		file := filepath.Join(cfg.Path, "database.sqlite")
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNoDatabase
		}
		dialector = sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: SQLiteDSN(file, "mode=ro", "_pragma=busy_timeout(10000)")})
	case "postgres":
		dialector = postgres.Open(PostgresDSN(cfg))
	default:
		return nil, fmt.Errorf("DATABASE_TYPE %q is not supported (use sqlite or postgres)", cfg.Type)
	}
	db, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", cfg.Type, err)
	}
	sqlDB, _ := db.DB()
	setPool(db, 1)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", cfg.Type, err)
	}
	if !db.Migrator().HasTable(&ChatFlow{}) {
		_ = sqlDB.Close()
		return nil, ErrNoDatabase
	}
	return db, nil
}

// OpenMemory is an empty, migrated SQLite database in memory: what a Flowgate that has nothing
// yet looks like, for a dry run against a database not created yet.
func OpenMemory(ctx context.Context) (*gorm.DB, error) {
	db, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: "file::memory:"}), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("open an in-memory database: %w", err)
	}
	setPool(db, 1) // each connection to :memory: is a database of its own
	if err := Migrate(db.WithContext(ctx)); err != nil {
		return nil, err
	}
	return db, nil
}

// SQLiteDSN is the modernc.org/sqlite URL of file with the given query parameters
// (name=value, kept in order: _pragma may repeat).
func SQLiteDSN(file string, params ...string) string {
	u := url.URL{Scheme: "file", Opaque: (&url.URL{Path: file}).EscapedPath()}
	for i, p := range params {
		name, value, _ := strings.Cut(p, "=")
		if i > 0 {
			u.RawQuery += "&"
		}
		u.RawQuery += url.QueryEscape(name) + "=" + url.QueryEscape(value)
	}
	return u.String()
}

// SQLiteFiles lists the files of the SQLite database in file: the database itself, its
// write-ahead log and the log's shared-memory index.
func SQLiteFiles(file string) []string {
	return []string{file, file + "-wal", file + "-shm"}
}

// createPrivate creates the SQLite database file, empty and readable by its owner only, unless
// it exists. SQLite would create it readable by all (under the umask); it takes an empty file
// for a new database, and gives the -wal and -shm files it makes the database file's mode.
// (Files older versions left readable are tightened at start; see config.PrivatePaths.)
func createPrivate(file string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

func setPool(db *gorm.DB, n int) {
	sqlDB, err := db.DB()
	if err != nil {
		return
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
}

// PostgresDSN is the connection URL of a postgres DBConfig.
func PostgresDSN(cfg DBConfig) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.UserPassword(cfg.User, cfg.Password),
		Host:   net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		Path:   "/" + cfg.Name,
	}
	q := url.Values{}
	if cfg.SSL {
		q.Set("sslmode", "require")
	} else {
		q.Set("sslmode", "disable")
	}
	q.Set("connect_timeout", "10")
	u.RawQuery = q.Encode()
	return u.String()
}
