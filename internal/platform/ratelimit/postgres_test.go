package ratelimit

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowgate/flowgate/internal/testkit/pgtest"
)

func dsn(host string, port int, name string) string {
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", host, port, name)
}

// openPool opens an independent connection pool, as one API replica would.
func openPool(t testing.TB, dbName string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn(pgtest.Host, pgtest.Port, dbName))
	require.NoError(t, err)
	db.SetMaxOpenConns(16)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// migratedDB returns a fresh migrated database's name.
func migratedDB(t testing.TB) string {
	t.Helper()
	name := pgtest.NewDatabase(t)
	require.NoError(t, Migrate(context.Background(), openPool(t, name)))
	return name
}

// replica is one API process: its own pool, Postgres and Limiter.
func replica(t testing.TB, dbName string, cfg Config) (*Limiter, *Postgres, *sql.DB) {
	t.Helper()
	db := openPool(t, dbName)
	pg := NewPostgres(db)
	cfg.Stores = pg.Store
	l := New(cfg)
	t.Cleanup(func() {
		require.NoError(t, l.Close(context.Background()))
		pg.Close()
	})
	return l, pg, db
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	name := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- Migrate(context.Background(), openPool(t, name))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, Migrate(context.Background(), openPool(t, name)))
}

func TestPostgresReplicasShareExactlyMax(t *testing.T) {
	name := migratedDB(t)
	// A generous timeout: under this load a timeout would fail open and spoil the count.
	cfg := Config{StoreTimeout: 30 * time.Second, FailOpen: true}
	a, _, db := replica(t, name, cfg)
	b, _, _ := replica(t, name, cfg)
	const max, takers = 7, 40
	rule := ruleOf(max, time.Minute)

	var mu sync.Mutex
	var remaining []int
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, takers)
	for i := range takers {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d, err := l.Take(context.Background(), "flow", rule, "ip=1")
			if err != nil {
				errs <- err
				return
			}
			if d.Allowed {
				mu.Lock()
				remaining = append(remaining, d.Remaining)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	sort.Ints(remaining)
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, remaining, "each allowed taker saw a distinct count")

	var count, allowance int64
	require.NoError(t, db.QueryRow(`SELECT count, allowance FROM flowgate_rate_limit`).Scan(&count, &allowance))
	require.EqualValues(t, max, allowance)
	require.EqualValues(t, max+1, count, "refusals do not keep growing the count")

	d, err := b.Take(context.Background(), "other-flow", rule, "ip=1")
	require.NoError(t, err)
	require.True(t, d.Allowed, "another chatflow has its own count")
	d, err = a.Take(context.Background(), "flow", ruleOf(max+1, time.Minute), "ip=1")
	require.NoError(t, err)
	require.True(t, d.Allowed, "an edited limit starts a fresh count")
	require.Equal(t, max, d.Remaining)
	d, err = a.Take(context.Background(), "flow", rule, "ip=2")
	require.NoError(t, err)
	require.True(t, d.Allowed, "another client has its own count")
}

func TestPostgresDecisionAndWindowExpiry(t *testing.T) {
	name := migratedDB(t)
	l, _, _ := replica(t, name, Config{StoreTimeout: 10 * time.Second})
	ctx := context.Background()
	rule := ruleOf(2, 300*time.Millisecond)
	take := func() Decision {
		d, err := l.Take(ctx, "flow", rule, "ip=1")
		require.NoError(t, err)
		return d
	}

	before := time.Now()
	d := take()
	require.True(t, d.Allowed)
	require.Equal(t, 2, d.Limit)
	require.Equal(t, 1, d.Remaining)
	require.WithinRange(t, d.Reset, before, time.Now().Add(rule.Window))
	require.True(t, take().Allowed)
	denied := take()
	require.False(t, denied.Allowed)
	require.Greater(t, denied.RetryAfter, time.Duration(0))
	require.LessOrEqual(t, denied.RetryAfter, time.Second)

	require.Eventually(t, func() bool { return take().Allowed }, 5*time.Second, 20*time.Millisecond)
	d = take()
	require.True(t, d.Allowed, "the new window holds the full limit")
	require.Equal(t, 0, d.Remaining)
}

func TestPostgresGetSetBurst(t *testing.T) {
	name := migratedDB(t)
	pg := NewPostgres(openPool(t, name))
	t.Cleanup(pg.Close)
	s, err := pg.Store(2, time.Hour)
	require.NoError(t, err)
	ctx := context.Background()

	tokens, remaining, err := s.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, [2]uint64{2, 2}, [2]uint64{tokens, remaining}, "unknown key: full allowance")

	for range 3 {
		_, _, _, _, err = s.Take(ctx, "k")
		require.NoError(t, err)
	}
	tokens, remaining, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, [2]uint64{2, 0}, [2]uint64{tokens, remaining})

	// Burst after a refusal: all extra tokens are usable.
	require.NoError(t, s.Burst(ctx, "k", 3))
	tokens, remaining, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, [2]uint64{5, 3}, [2]uint64{tokens, remaining})
	for i := range 3 {
		_, left, _, ok, err := s.Take(ctx, "k")
		require.NoError(t, err)
		require.True(t, ok)
		require.EqualValues(t, 2-i, left)
	}
	_, _, _, ok, err := s.Take(ctx, "k")
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, s.Set(ctx, "k", 10, time.Hour))
	tokens, remaining, err = s.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, [2]uint64{10, 10}, [2]uint64{tokens, remaining})

	require.NoError(t, s.Close(ctx))
	_, _, _, _, err = s.Take(ctx, "k")
	require.Error(t, err)
	other, err := pg.Store(2, time.Hour)
	require.NoError(t, err)
	_, _, _, ok, err = other.Take(ctx, "k")
	require.NoError(t, err, "closing one store leaves the database usable")
	require.True(t, ok)
}

func TestPostgresCleanupDeletesOnlyExpiredRows(t *testing.T) {
	name := migratedDB(t)
	db := openPool(t, name)
	pg := NewPostgres(db)
	t.Cleanup(pg.Close)
	ctx := context.Background()
	_, err := db.Exec(`INSERT INTO flowgate_rate_limit (key, window_start, expires_at, allowance, count)
		SELECT 'old-' || i, now() - interval '2 hours', now() - interval '1 hour', 5, 5 FROM generate_series(1, 30) i
		UNION ALL SELECT 'live', now(), now() + interval '1 hour', 5, 1`)
	require.NoError(t, err)

	pg.cleanupBatch = 20
	n, err := pg.Cleanup(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 20, n, "one batch at a time")
	n, err = pg.Cleanup(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 10, n)

	var keys []string
	rows, err := db.Query(`SELECT key FROM flowgate_rate_limit`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		keys = append(keys, k)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"live"}, keys)

	// Takes trigger the same cleanup in the background.
	_, err = db.Exec(`INSERT INTO flowgate_rate_limit VALUES ('stale', now() - interval '2 hours', now() - interval '1 hour', 5, 5)`)
	require.NoError(t, err)
	pg.cleanupEvery = 0
	s, err := pg.Store(5, time.Minute)
	require.NoError(t, err)
	_, _, _, _, err = s.Take(ctx, "fresh")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM flowgate_rate_limit WHERE key = 'stale'`).Scan(&n)
		return err == nil && n == 0
	}, 5*time.Second, 10*time.Millisecond)
}

// blackHole accepts TCP connections and never answers, like a hung database server.
func blackHole(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func TestPostgresOutageIsBoundedAndFollowsPolicy(t *testing.T) {
	const timeout = 200 * time.Millisecond
	outages := map[string]func(*testing.T) int{"hung server": blackHole, "closed port": closedPort}
	for name, port := range outages {
		for _, failOpen := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/failOpen=%v", name, failOpen), func(t *testing.T) {
				db, err := sql.Open("pgx", dsn("127.0.0.1", port(t), "nowhere"))
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				pg := NewPostgres(db)
				l := New(Config{Stores: pg.Store, StoreTimeout: timeout, FailOpen: failOpen})
				t.Cleanup(func() {
					require.NoError(t, l.Close(context.Background()))
					pg.Close()
				})

				for range 2 { // the second Take finds the pool in the same state
					start := time.Now()
					d, err := l.Take(context.Background(), "flow", ruleOf(5, time.Minute), "ip=1")
					require.Less(t, time.Since(start), timeout+time.Second)
					require.ErrorIs(t, err, ErrStoreUnavailable)
					require.Equal(t, failOpen, d.Allowed)
					if !failOpen {
						require.Greater(t, d.RetryAfter, time.Duration(0))
						require.NotEmpty(t, d.Headers()["Retry-After"])
					}
				}
			})
		}
	}
}
