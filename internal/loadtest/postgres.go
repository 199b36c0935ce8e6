package loadtest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Postgres is a PostgreSQL server reachable without a password (trust auth), as on a
// developer machine or CI runner.
type Postgres struct {
	Host string
	Port int
	User string
}

// LocalPostgres is the machine's PostgreSQL, as the project's tests use it.
var LocalPostgres = Postgres{Host: "127.0.0.1", Port: 5432, User: "postgres"}

func (pg Postgres) admin() (*sql.DB, error) {
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://%s@%s:%d/postgres?sslmode=disable&connect_timeout=5", pg.User, pg.Host, pg.Port))
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL at %s:%d: %w", pg.Host, pg.Port, err)
	}
	return db, nil
}

// CreateDatabase creates a fresh, uniquely named database and returns its name.
func (pg Postgres) CreateDatabase(ctx context.Context) (string, error) {
	db, err := pg.admin()
	if err != nil {
		return "", err
	}
	defer db.Close()
	name := "flowgate_bench_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s on PostgreSQL %s:%d as %s (queue mode needs it, with trust auth): %w",
			name, pg.Host, pg.Port, pg.User, err)
	}
	return name, nil
}

// DropDatabase drops name, disconnecting whatever still uses it.
func (pg Postgres) DropDatabase(ctx context.Context, name string) error {
	db, err := pg.admin()
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}
