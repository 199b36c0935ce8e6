package ratelimit

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Postgres shares rate limit counts between API replicas through one table. Every count
// is a single atomic upsert judged by the database clock (now()), so replicas with skewed
// clocks agree on windows and exactly Max requests pass per window however many replicas
// take at once.
//
// Table flowgate_rate_limit, one row per counting key:
//
//	key          text primary key  (see storeKey: scope, limit, window, hashed client)
//	window_start timestamptz       start of the current fixed window
//	expires_at   timestamptz       its end; an expired row counts as absent
//	allowance    bigint            requests allowed in this window (the limit, plus Burst)
//	count        bigint            requests allowed so far, plus 1 once one was refused
type Postgres struct {
	db           *sql.DB
	now          func() time.Time // local clock, only to turn database durations into times
	cleanupEvery time.Duration
	cleanupBatch int

	nextCleanup atomic.Int64
	mu          sync.Mutex // guards closed against wg.Add
	closed      bool
	wg          sync.WaitGroup
}

// Housekeeping defaults: expired rows are deleted in batches, at most one batch per
// replica per interval, so the cost stays bounded however many keys expire.
const (
	defaultCleanupEvery   = time.Minute
	defaultCleanupBatch   = 1000
	cleanupTimeout        = 5 * time.Second
	migrateAdvisoryLockID = 0x666c6f7767617465 // "flowgate": serializes concurrent Migrates
)

// Migrate creates the table and its index if missing. Run it at startup (it is
// idempotent and safe when several replicas start at once).
func Migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate rate limit table: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	// Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog; the lock
	// makes the second replica wait and then find the table.
	stmts := []string{
		`SELECT pg_advisory_xact_lock(` + fmt.Sprint(migrateAdvisoryLockID) + `)`,
		`CREATE TABLE IF NOT EXISTS flowgate_rate_limit (
			key          text        PRIMARY KEY,
			window_start timestamptz NOT NULL,
			expires_at   timestamptz NOT NULL,
			allowance    bigint      NOT NULL,
			count        bigint      NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS flowgate_rate_limit_expires_at ON flowgate_rate_limit (expires_at)`,
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("migrate rate limit table: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate rate limit table: %w", err)
	}
	return nil
}

// NewPostgres uses db (opened with the pgx driver, owned by the caller) for shared counts.
// It does no I/O; run Migrate first. Pass p.Store as Config.Stores.
func NewPostgres(db *sql.DB) *Postgres {
	return &Postgres{db: db, now: time.Now, cleanupEvery: defaultCleanupEvery, cleanupBatch: defaultCleanupBatch}
}

// Store is a StoreFactory: the returned store counts with the given limit and window.
// Stores are cheap views of the same table; closing one does not close the database.
func (p *Postgres) Store(tokens uint64, interval time.Duration) (Store, error) {
	if tokens == 0 || tokens > math.MaxInt64 || interval < time.Microsecond {
		return nil, fmt.Errorf("postgres rate limit store: need 1..%d tokens and an interval of at least 1µs, got %d per %v", int64(math.MaxInt64), tokens, interval)
	}
	return &pgStore{p: p, tokens: int64(tokens), interval: interval}, nil
}

// Cleanup deletes up to one batch of expired rows and reports how many went. Deleting an
// expired row loses nothing: the next Take would have started a new window anyway.
// Rows a Take is updating right now are skipped rather than waited for.
func (p *Postgres) Cleanup(ctx context.Context) (int64, error) {
	res, err := p.db.ExecContext(ctx, `
		DELETE FROM flowgate_rate_limit WHERE key IN (
			SELECT key FROM flowgate_rate_limit
			WHERE expires_at < now()
			ORDER BY expires_at
			LIMIT $1
			FOR UPDATE SKIP LOCKED)`, p.cleanupBatch)
	if err != nil {
		return 0, fmt.Errorf("clean up rate limit rows: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("clean up rate limit rows: %w", err)
	}
	return n, nil
}

// Close waits for a running background cleanup; it does not close the database.
func (p *Postgres) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}

// maybeCleanup starts a background Cleanup at most once per cleanupEvery per process.
// Its error is dropped: the next round retries, and Takes do not depend on it.
func (p *Postgres) maybeCleanup() {
	now := p.now()
	next := p.nextCleanup.Load()
	if now.UnixNano() < next || !p.nextCleanup.CompareAndSwap(next, now.Add(p.cleanupEvery).UnixNano()) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		_, _ = p.Cleanup(ctx)
	}()
}
