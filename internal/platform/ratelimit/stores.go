package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	golimiter "github.com/sethvargo/go-limiter"
)

// How often idle stores are looked for, and the least idle time before one is closed.
const (
	sweepEvery = time.Minute
	minIdle    = time.Minute
	closeGrace = time.Second // bound on closing a store nobody uses any more
)

// pairKey identifies the store shared by every rule with the same limit and window.
type pairKey struct {
	tokens   uint64
	interval time.Duration
}

type pooledStore struct {
	key      pairKey
	store    golimiter.Store
	users    atomic.Int64 // Takes in progress; only incremented under storePool.mu
	lastUsed atomic.Int64 // UnixNano on the limiter's clock
}

// storePool keeps one store per (tokens, interval) pair, created on first use. It stays
// bounded two ways: a store idle for longer than its window is closed (lossless: all its
// windows have ended), and beyond max stores the least recently used idle one is closed
// (for memory stores that forgets its counts, the price of a bound).
type storePool struct {
	factory   StoreFactory
	max       int
	now       func() time.Time
	mu        sync.RWMutex
	stores    map[pairKey]*pooledStore
	closed    bool
	nextSweep atomic.Int64
}

func newStorePool(factory StoreFactory, maxStores int, now func() time.Time) *storePool {
	p := &storePool{factory: factory, max: maxStores, now: now, stores: map[pairKey]*pooledStore{}}
	p.nextSweep.Store(now().Add(sweepEvery).UnixNano())
	return p
}

// acquire returns the store for the pair with its user count raised; call release after.
func (p *storePool) acquire(tokens uint64, interval time.Duration) (*pooledStore, error) {
	now := p.now()
	k := pairKey{tokens, interval}

	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return nil, golimiter.ErrStopped
	}
	e := p.stores[k]
	if e != nil {
		e.users.Add(1)
		e.lastUsed.Store(now.UnixNano())
	}
	p.mu.RUnlock()
	if e != nil {
		p.maybeSweep(now)
		return e, nil
	}

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, golimiter.ErrStopped
	}
	var retired []golimiter.Store
	if e = p.stores[k]; e == nil {
		retired = p.sweepLocked(now)
		if len(p.stores) >= p.max {
			retired = append(retired, p.evictLRULocked()...)
		}
		s, err := p.factory(tokens, interval)
		if err != nil {
			p.mu.Unlock()
			closeStores(retired)
			return nil, fmt.Errorf("create store for %d per %v: %w", tokens, interval, err)
		}
		e = &pooledStore{key: k, store: s}
		p.stores[k] = e
	}
	e.users.Add(1)
	e.lastUsed.Store(now.UnixNano())
	p.mu.Unlock()
	closeStores(retired)
	return e, nil
}

func (p *storePool) release(e *pooledStore) { e.users.Add(-1) }

// maybeSweep runs sweepLocked at most once per sweepEvery, from whichever Take notices.
func (p *storePool) maybeSweep(now time.Time) {
	next := p.nextSweep.Load()
	if now.UnixNano() < next || !p.nextSweep.CompareAndSwap(next, now.Add(sweepEvery).UnixNano()) {
		return
	}
	p.mu.Lock()
	retired := p.sweepLocked(now)
	p.mu.Unlock()
	closeStores(retired)
}

// sweepLocked removes stores unused for longer than their window (and minIdle).
func (p *storePool) sweepLocked(now time.Time) []golimiter.Store {
	var retired []golimiter.Store
	for k, e := range p.stores {
		idle := now.Sub(time.Unix(0, e.lastUsed.Load()))
		if e.users.Load() == 0 && idle > max(k.interval, minIdle) {
			delete(p.stores, k)
			retired = append(retired, e.store)
		}
	}
	return retired
}

// evictLRULocked removes the least recently used store that no Take is using. If every
// store is busy the pool grows past max for a moment rather than block a request.
func (p *storePool) evictLRULocked() []golimiter.Store {
	var victim *pooledStore
	for _, e := range p.stores {
		if e.users.Load() == 0 && (victim == nil || e.lastUsed.Load() < victim.lastUsed.Load()) {
			victim = e
		}
	}
	if victim == nil {
		return nil
	}
	delete(p.stores, victim.key)
	return []golimiter.Store{victim.store}
}

func (p *storePool) size() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.stores)
}

// close closes every store; later acquires fail with golimiter.ErrStopped.
func (p *storePool) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	all := p.stores
	p.stores = map[pairKey]*pooledStore{}
	p.mu.Unlock()
	var errs []error
	for k, e := range all {
		if err := e.store.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close store for %d per %v: %w", k.tokens, k.interval, err))
		}
	}
	return errors.Join(errs...)
}

// closeStores closes retired stores. Their errors are dropped: nothing uses these stores
// any more, and a failure to free one must not fail the request that retired it.
func closeStores(stores []golimiter.Store) {
	if len(stores) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	for _, s := range stores {
		_ = s.Close(ctx)
	}
}
