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

// verifyCache maps the SHA-256 of a token string to its verified principal. It never sees a
// raw token. Entries live for ttl at most, as a safety net: correctness comes from
// invalidation, not from expiry.
type verifyCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]cacheEntry
	max     int
	ttl     time.Duration
	// gen counts invalidations, so that a verification that started before one cannot put a
	// principal built from stale rows into the cache after it.
	gen uint64
	// disabled is set while cross-node invalidations cannot be received.
	disabled bool
}

type cacheEntry struct {
	p       *Principal
	storeAt time.Time
}

func newVerifyCache(max int, ttl time.Duration) *verifyCache {
	return &verifyCache{entries: make(map[[32]byte]cacheEntry), max: max, ttl: ttl}
}

// get returns the cached principal for hash, or nil.
func (c *verifyCache) get(hash *[32]byte, now time.Time) *Principal {
	c.mu.RLock()
	e, ok := c.entries[*hash]
	c.mu.RUnlock()
	if !ok || now.Sub(e.storeAt) > c.ttl {
		return nil
	}
	return e.p
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
	if c.disabled || c.gen != gen || c.max <= 0 {
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
	c.entries[*hash] = cacheEntry{p: p, storeAt: now}
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
		if matches(e.p, inv) {
			delete(c.entries, k)
		}
	}
}

// setDisabled empties the cache and keeps it empty while on is true.
func (c *verifyCache) setDisabled(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.disabled = on
	clear(c.entries)
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

// accountCache keeps account rows in memory for the read paths every request takes (GET of
// the token's own account, whoami, the account list), dropped with the account's other cached
// state on every node. Cached accounts are shared: callers must not modify them.
type accountCache struct {
	mu sync.RWMutex
	m  map[int64]*Account
}

func (c *accountCache) get(id int64) *Account {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[id]
}

func (c *accountCache) put(a *Account) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[int64]*Account)
	}
	c.m[a.ID] = a
}

func (c *accountCache) invalidate(inv Invalidation) {
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
	if a := s.accounts.get(id); a != nil {
		return a, nil
	}
	gen := s.cache.generation()
	a, err := s.store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.cache.generation() == gen {
		s.accounts.put(a)
	}
	return a, nil
}
