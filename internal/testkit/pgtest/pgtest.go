// Package pgtest gives tests a fresh database on the machine's PostgreSQL server
// (127.0.0.1:5432, trust auth as user postgres; scripts/test starts it when it is down).
package pgtest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Server coordinates.
const (
	Host = "127.0.0.1"
	Port = 5432
	User = "postgres"
)

// NewDatabase creates an empty database, drops it when the test ends, and returns its name.
func NewDatabase(t testing.TB) string {
	t.Helper()
	name := "flowgate_test_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	admin := open(t)
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("PostgreSQL must run on %s:%d with trust auth for %s: %v", Host, Port, User, err)
	}
	t.Cleanup(func() {
		admin := open(t)
		defer admin.Close()
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return name
}

func open(t testing.TB) *sql.DB {
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://%s@%s:%d/postgres?sslmode=disable&connect_timeout=5", User, Host, Port))
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	return db
}
