package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	golimiter "github.com/sethvargo/go-limiter"
)

// pgStore is one (tokens, interval) view of the Postgres table.
type pgStore struct {
	p        *Postgres
	tokens   int64
	interval time.Duration
	closed   atomic.Bool
}

var _ Store = (*pgStore)(nil)

// takeSQL counts one request in a single statement. The row lock taken by ON CONFLICT
// serializes concurrent takers of a key across all connections and replicas, and each
// sees the row as the previous one left it, so exactly `allowance` of them get a count
// within it. Every SET expression reads the row as it was before this statement. Refused
// requests leave count at allowance+1 instead of growing it, so the row stays meaningful
// for Burst and Get.
const takeSQL = `
INSERT INTO flowgate_rate_limit AS r (key, window_start, expires_at, allowance, count)
VALUES ($1, now(), now() + $2::bigint * interval '1 microsecond', $3, 1)
ON CONFLICT (key) DO UPDATE SET
	window_start = CASE WHEN r.expires_at <= now() THEN EXCLUDED.window_start ELSE r.window_start END,
	expires_at   = CASE WHEN r.expires_at <= now() THEN EXCLUDED.expires_at   ELSE r.expires_at   END,
	allowance    = CASE WHEN r.expires_at <= now() THEN EXCLUDED.allowance    ELSE r.allowance    END,
	count        = CASE WHEN r.expires_at <= now() THEN 1 ELSE LEAST(r.count + 1, r.allowance + 1) END
RETURNING count, allowance, expires_at, now()`

// Take implements go-limiter's Store. reset is on the local clock: the database reports
// how long the window has left, so RateLimit-Reset is right even if clocks disagree.
func (s *pgStore) Take(ctx context.Context, key string) (tokens, remaining, reset uint64, ok bool, err error) {
	if s.closed.Load() {
		return 0, 0, 0, false, golimiter.ErrStopped
	}
	var count, allowance int64
	var expires, dbNow time.Time
	err = s.p.db.QueryRowContext(ctx, takeSQL, key, s.micros(), s.tokens).Scan(&count, &allowance, &expires, &dbNow)
	if err != nil {
		return 0, 0, 0, false, fmt.Errorf("postgres rate limit take: %w", err)
	}
	s.p.maybeCleanup()
	resetAt := s.p.now().Add(expires.Sub(dbNow))
	return uint64(allowance), uint64(allowance - min(count, allowance)), uint64(resetAt.UnixNano()), count <= allowance, nil
}

// Get reports the key's limit and remaining requests without counting; a key with no
// live window has its whole allowance left.
func (s *pgStore) Get(ctx context.Context, key string) (tokens, remaining uint64, err error) {
	if s.closed.Load() {
		return 0, 0, golimiter.ErrStopped
	}
	var count, allowance int64
	var live bool
	err = s.p.db.QueryRowContext(ctx,
		`SELECT count, allowance, expires_at > now() FROM flowgate_rate_limit WHERE key = $1`, key).
		Scan(&count, &allowance, &live)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !live) {
		return uint64(s.tokens), uint64(s.tokens), nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("postgres rate limit get: %w", err)
	}
	return uint64(allowance), uint64(allowance - min(count, allowance)), nil
}

// Set starts a fresh window of the given length and size for key. A fixed-window table
// keeps no per-key configuration, so from the next window on the key counts with the
// store's own limit and interval again.
func (s *pgStore) Set(ctx context.Context, key string, tokens uint64, interval time.Duration) error {
	if s.closed.Load() {
		return golimiter.ErrStopped
	}
	if tokens > math.MaxInt64 || interval < time.Microsecond {
		return fmt.Errorf("postgres rate limit set: bad limit %d per %v", tokens, interval)
	}
	_, err := s.p.db.ExecContext(ctx, `
INSERT INTO flowgate_rate_limit AS r (key, window_start, expires_at, allowance, count)
VALUES ($1, now(), now() + $2::bigint * interval '1 microsecond', $3, 0)
ON CONFLICT (key) DO UPDATE SET
	window_start = EXCLUDED.window_start, expires_at = EXCLUDED.expires_at,
	allowance = EXCLUDED.allowance, count = 0`,
		key, int64(interval/time.Microsecond), int64(tokens))
	if err != nil {
		return fmt.Errorf("postgres rate limit set: %w", err)
	}
	return nil
}

// Burst allows tokens more requests in key's current window (starting one if needed).
// count is first brought back to the number actually allowed, dropping the "one refused"
// mark, so the extra tokens are all usable.
func (s *pgStore) Burst(ctx context.Context, key string, tokens uint64) error {
	if s.closed.Load() {
		return golimiter.ErrStopped
	}
	extra := int64(min(tokens, uint64(math.MaxInt64-s.tokens)))
	_, err := s.p.db.ExecContext(ctx, `
INSERT INTO flowgate_rate_limit AS r (key, window_start, expires_at, allowance, count)
VALUES ($1, now(), now() + $2::bigint * interval '1 microsecond', $3::bigint + $4::bigint, 0)
ON CONFLICT (key) DO UPDATE SET
	window_start = CASE WHEN r.expires_at <= now() THEN EXCLUDED.window_start ELSE r.window_start END,
	expires_at   = CASE WHEN r.expires_at <= now() THEN EXCLUDED.expires_at   ELSE r.expires_at   END,
	allowance    = CASE WHEN r.expires_at <= now() THEN EXCLUDED.allowance    ELSE r.allowance + $4::bigint END,
	count        = CASE WHEN r.expires_at <= now() THEN 0 ELSE LEAST(r.count, r.allowance) END`,
		key, s.micros(), s.tokens, extra)
	if err != nil {
		return fmt.Errorf("postgres rate limit burst: %w", err)
	}
	return nil
}

// Close stops this view; the table, the database and other views are unaffected.
func (s *pgStore) Close(context.Context) error {
	s.closed.Store(true)
	return nil
}

func (s *pgStore) micros() int64 { return int64(s.interval / time.Microsecond) }
