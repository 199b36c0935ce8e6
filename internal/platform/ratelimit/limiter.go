package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	golimiter "github.com/sethvargo/go-limiter"
)

// Defaults for Config's zero values.
const (
	DefaultStoreTimeout = 500 * time.Millisecond
	DefaultMaxStores    = 128
	// failClosedRetryAfter is what a refused client is told when the store is down:
	// short, because the outage, not the client, is the reason.
	failClosedRetryAfter = 5 * time.Second
)

// ErrStoreUnavailable wraps every store failure or timeout. The Decision returned with it
// follows Config.FailOpen; the caller should log it as a warning and obey the Decision.
var ErrStoreUnavailable = errors.New("rate limit store unavailable")

// Config sets up a Limiter. Start from DefaultConfig: the zero Config fails closed.
type Config struct {
	// Stores makes the counting stores; nil means MemoryStores (this process only). Use
	// (*Postgres).Store so every API replica shares the counts.
	Stores StoreFactory
	// StoreTimeout bounds every store call; 0 means DefaultStoreTimeout.
	StoreTimeout time.Duration
	// FailOpen lets requests through when the store fails or is slow (with
	// ErrStoreUnavailable), so a database hiccup does not take chatflows down. When false
	// they are refused with a short Retry-After.
	FailOpen bool
	// MaxStores bounds the stores kept open (one per distinct limit/window pair);
	// 0 means DefaultMaxStores.
	MaxStores int
	// Now is the clock for Decision timing and store housekeeping; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig is an in-memory, fail-open limiter.
func DefaultConfig() Config {
	return Config{FailOpen: true}
}

// Limiter enforces Rules. It is safe for concurrent use.
type Limiter struct {
	pool     *storePool
	timeout  time.Duration
	failOpen bool
	now      func() time.Time
}

// New builds a Limiter; call Close when done to stop the stores' background work.
func New(cfg Config) *Limiter {
	if cfg.Stores == nil {
		cfg.Stores = MemoryStores
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	if cfg.MaxStores <= 0 {
		cfg.MaxStores = DefaultMaxStores
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{
		pool:     newStorePool(cfg.Stores, cfg.MaxStores, cfg.Now),
		timeout:  cfg.StoreTimeout,
		failOpen: cfg.FailOpen,
		now:      cfg.Now,
	}
}

// Take counts one request from the client key (see Rule.ClientKey) against the rule of
// the chatflow named by scope. A disabled rule always allows and touches no store.
//
// Errors: with ErrStoreUnavailable the Decision is usable (it follows FailOpen). Any other
// error (an invalid rule, ctx cancelled by the caller) comes with Allowed == false and
// means the request cannot be judged.
func (l *Limiter) Take(ctx context.Context, scope string, rule Rule, key string) (Decision, error) {
	if !rule.Enabled {
		return Decision{Allowed: true, at: l.now()}, nil
	}
	if err := rule.Validate(); err != nil {
		return Decision{at: l.now()}, fmt.Errorf("rate limit for %s: %w", scope, err)
	}
	res, err := l.take(ctx, rule, storeKey(scope, rule, key))
	now := l.now()
	if err != nil {
		// The caller gave up (client gone); that is not the store's fault.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Decision{at: now}, fmt.Errorf("rate limit for %s: %w", scope, ctxErr)
		}
		return l.degraded(rule, now, fmt.Errorf("%w: %w", ErrStoreUnavailable, err))
	}
	d := Decision{
		Allowed:   res.ok,
		Limit:     clampInt(res.tokens),
		Remaining: clampInt(res.remaining),
		Reset:     time.Unix(0, int64(res.reset)),
		at:        now,
	}
	if !d.Allowed {
		d.Remaining = 0
		// A store clock ahead of ours could put Reset in the past; never say "retry now".
		if d.RetryAfter = d.Reset.Sub(now); d.RetryAfter <= 0 {
			d.RetryAfter = time.Second
		}
	}
	return d, nil
}

// Close stops every store. Takes after Close go the FailOpen way.
func (l *Limiter) Close(ctx context.Context) error {
	if err := l.pool.close(ctx); err != nil {
		return fmt.Errorf("close rate limiter: %w", err)
	}
	return nil
}

func (l *Limiter) degraded(rule Rule, now time.Time, err error) (Decision, error) {
	if l.failOpen {
		return Decision{Allowed: true, at: now}, err
	}
	return Decision{
		Limit:      rule.Max,
		Reset:      now.Add(failClosedRetryAfter),
		RetryAfter: failClosedRetryAfter,
		at:         now,
	}, err
}

type takeResult struct {
	tokens, remaining, reset uint64
	ok                       bool
}

// take asks the rule's store, bounded by the store timeout even if the store ignores ctx.
func (l *Limiter) take(ctx context.Context, rule Rule, key string) (takeResult, error) {
	e, err := l.pool.acquire(uint64(rule.Max), rule.Window)
	if err != nil {
		return takeResult{}, err
	}
	defer l.pool.release(e)

	if _, ok := e.store.(nonBlockingStore); ok {
		return callTake(ctx, e.store, key) // no deadline to arm: it answers at once
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	type outcome struct {
		res takeResult
		err error
	}
	done := make(chan outcome, 1) // buffered: a late answer must not strand the goroutine
	go func() {
		res, err := callTake(ctx, e.store, key)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return takeResult{}, fmt.Errorf("no answer within %v: %w", l.timeout, ctx.Err())
	}
}

func callTake(ctx context.Context, s golimiter.Store, key string) (takeResult, error) {
	tokens, remaining, reset, ok, err := s.Take(ctx, key)
	if err != nil {
		return takeResult{}, fmt.Errorf("store take: %w", err)
	}
	return takeResult{tokens, remaining, reset, ok}, nil
}

func clampInt(v uint64) int {
	return int(min(v, math.MaxInt))
}
