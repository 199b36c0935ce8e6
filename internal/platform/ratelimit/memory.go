package ratelimit

import (
	"fmt"
	"time"

	golimiter "github.com/sethvargo/go-limiter"
	"github.com/sethvargo/go-limiter/memorystore"
)

// Store is go-limiter's storage interface (limiter.Store in v0.7.1), aliased so callers
// need not import go-limiter.
type Store = golimiter.Store

// StoreFactory makes the store that counts every rule with the given limit and window.
// The Limiter calls it lazily, once per (tokens, interval) pair in use, under a lock, so it
// must not block on I/O.
type StoreFactory func(tokens uint64, interval time.Duration) (Store, error)

// MemoryStores is the single-process StoreFactory, backed by go-limiter's memorystore.
//
// memorystore's semantics (v0.7.1): each key gets a fixed window that starts at the key's
// first Take and repeats every interval; at each window boundary the bucket is refilled to
// tokens in one step. So it is a fixed window per client, aligned to that client's first
// request rather than to the wall clock (express-rate-limit, which Flowise uses, also keeps
// a window per client in its memory store). The refill is computed as ticks*interval/tokens nanoseconds, which only
// reaches a full bucket when interval (ns) >= tokens², so larger limits are refused here
// instead of silently under-allowing (e.g. 1s windows allow at most 31622 tokens).
func MemoryStores(tokens uint64, interval time.Duration) (Store, error) {
	if tokens == 0 || interval <= 0 {
		return nil, fmt.Errorf("memory rate limit store: need tokens > 0 and interval > 0, got %d per %v", tokens, interval)
	}
	if uint64(interval)/tokens < tokens { // interval < tokens², without overflow
		return nil, fmt.Errorf("memory rate limit store: %d per %v is beyond what memorystore refills correctly; use a longer window or the postgres store", tokens, interval)
	}
	s, err := memorystore.New(&memorystore.Config{
		Tokens:   tokens,
		Interval: interval,
		// A key idle for a whole window holds no live count, so sweeping after one window
		// loses nothing. Sweeping at most every minute keeps lock contention low.
		SweepInterval: min(max(interval, time.Minute), time.Hour),
		SweepMinTTL:   interval,
		InitialAlloc:  64, // the Limiter may hold many of these; let them grow on demand
	})
	if err != nil {
		return nil, fmt.Errorf("memory rate limit store: %w", err)
	}
	return memStore{s}, nil
}

// memStore marks memorystore as never blocking, so the Limiter calls it directly instead
// of through a goroutine guarded by the store deadline.
type memStore struct{ golimiter.Store }

func (memStore) nonBlocking() {}

// nonBlockingStore is implemented by stores that return promptly without honoring ctx.
type nonBlockingStore interface{ nonBlocking() }
