package tokend

import (
	"context"
	"sync"
	"time"
)

// Invalidation names what changed. Cached principals that depend on it are dropped at once on
// every node. Zero fields are wildcards only in the combinations documented on each field.
type Invalidation struct {
	All       bool  // drop everything
	TokenID   int64 // drop this token
	UserID    int64 // drop the user's tokens (in AccountID, when set)
	AccountID int64 // with UserID zero: drop every token of the account
}

// Every cache of the Service obeys one discipline: entries are dropped by the change feed
// (Service.drop, on every node), live for Options.CacheTTL at most, are put only with the
// generation read before the store was (so that a row read before an invalidation never
// outlives it), and answer only while the node trusts its caches (Service.trusted).

// cacheEntry is a cached value and when it was read from the store.
type cacheEntry[V any] struct {
	v       V
	storeAt time.Time
}

func (e cacheEntry[V]) live(now time.Time, ttl time.Duration) bool {
	return now.Sub(e.storeAt) <= ttl
}

// verifyCache maps the SHA-256 of a token string to its verified principal. It never sees a
// raw token.
type verifyCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]cacheEntry[*Principal]
	max     int
	ttl     time.Duration
	// gen counts invalidations, so that a verification that started before one cannot put a
	// principal built from stale rows into the cache after it. The account and IP caches
	// use it too.
	gen uint64
}

func newVerifyCache(max int, ttl time.Duration) *verifyCache {
	return &verifyCache{entries: make(map[[32]byte]cacheEntry[*Principal]), max: max, ttl: ttl}
}

// get returns the cached principal for hash, or nil.
func (c *verifyCache) get(hash *[32]byte, now time.Time) *Principal {
	c.mu.RLock()
	e, ok := c.entries[*hash]
	c.mu.RUnlock()
	if !ok || !e.live(now, c.ttl) {
		return nil
	}
	return e.v
}

// generation returns the invalidation count to pass to put.
func (c *verifyCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores p unless an invalidation happened since gen was read.
func (c *verifyCache) put(hash *[32]byte, p *Principal, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.max <= 0 {
		return
	}
	if len(c.entries) >= c.max {
		// Evict an arbitrary entry (map order is random): cheap, and good enough when the
		// cache is sized above the working set.
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[*hash] = cacheEntry[*Principal]{v: p, storeAt: now}
}

// remember caches a verified principal, unless the node does not trust its caches now.
func (s *Service) remember(hash *[32]byte, p *Principal, gen uint64, now time.Time) {
	if s.trusted(now) {
		s.cache.put(hash, p, gen, now)
	}
}

// invalidate drops every entry inv names.
func (c *verifyCache) invalidate(inv Invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if inv.All {
		clear(c.entries)
		return
	}
	for k, e := range c.entries {
		if matches(e.v, inv) {
			delete(c.entries, k)
		}
	}
}

func (c *verifyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

func matches(p *Principal, inv Invalidation) bool {
	switch {
	case inv.TokenID != 0:
		return p.TokenID == inv.TokenID
	case inv.UserID != 0:
		return p.UserID == inv.UserID && (inv.AccountID == 0 || p.AccountID == inv.AccountID || p.Kind == KindLegacyKey)
	case inv.AccountID != 0:
		// A legacy key's reach depends on every account's migration window.
		return p.AccountID == inv.AccountID || p.Kind == KindLegacyKey
	}
	return false
}

// byAccount keeps one value per account (the account row, its compiled IP policy), dropped
// with the account's other cached state. Cached values are shared: callers must not modify
// them.
type byAccount[V any] struct {
	mu  sync.RWMutex
	m   map[int64]cacheEntry[V]
	ttl time.Duration
}

func (c *byAccount[V]) get(id int64, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !e.live(now, c.ttl) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *byAccount[V]) put(id int64, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[int64]cacheEntry[V])
	}
	c.m[id] = cacheEntry[V]{v: v, storeAt: now}
}

func (c *byAccount[V]) invalidate(inv Invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case inv.All:
		clear(c.m)
	case inv.AccountID != 0 && inv.UserID == 0:
		delete(c.m, inv.AccountID)
	}
}

// account returns an account for reading, from memory when it can. The generation check keeps
// a row read before an invalidation out of the cache after it.
func (s *Service) account(ctx context.Context, id int64) (*Account, error) {
	now := s.now()
	trusted := s.trusted(now)
	if trusted {
		if a, ok := s.accounts.get(id, now); ok {
			return a, nil
		}
	}
	gen := s.cache.generation()
	a, err := s.store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if trusted && s.cache.generation() == gen {
		s.accounts.put(id, a, now)
	}
	return a, nil
}
