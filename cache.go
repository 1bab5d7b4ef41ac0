package tokend

import (
	"context"
	"math"
	"sync"
	"time"
)

// Invalidation names what changed. Cached principals that depend on it are dropped at once on
// every node. Zero fields are wildcards only in the combinations documented on each field.
type Invalidation struct {
	All       bool      // drop everything
	TokenID   TokenID   // drop this token
	UserID    UserID    // drop the user's tokens (in AccountID, when set)
	AccountID AccountID // with UserID zero: drop every token of the account
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
	entries map[[32]byte]cachedPrincipal
	// byToken finds a token's entry by id, so that dropping one token (a revocation, or the
	// feed entry of every issued token) costs a lookup, not a scan of every entry.
	byToken map[TokenID][32]byte
	max     int
	ttl     time.Duration
	// gen counts invalidations, so that a verification that started before one cannot put a
	// principal built from stale rows into the cache after it. The account and IP caches
	// use it too.
	gen uint64
}

// cachedPrincipal is what a cached token answers with: its principal and its account's
// compiled IP policy (nil when the principal has no account), and until when. The policy is
// the one the principal was verified with; every change of it drops the account's principals
// (Invalidation{AccountID}), so it is as current as the principal.
type cachedPrincipal struct {
	p   *Principal
	pol *ipPolicy
	// deadline is when the entry stops answering, in Unix nanoseconds: the earliest of the
	// principal's and its policy's reads plus the TTL, and of the token's end (its expiry, or
	// the account's maximum lifetime), so that the hot path makes one comparison for all three.
	deadline int64
}

func newVerifyCache(max int, ttl time.Duration) *verifyCache {
	return &verifyCache{entries: make(map[[32]byte]cachedPrincipal), byToken: make(map[TokenID][32]byte), max: max, ttl: ttl}
}

// get returns the entry for hash, if it answers at now (Unix nanoseconds).
func (c *verifyCache) get(hash *[32]byte, now int64) (cachedPrincipal, bool) {
	c.mu.RLock()
	e, ok := c.entries[*hash]
	c.mu.RUnlock()
	if !ok || now >= e.deadline {
		return cachedPrincipal{}, false
	}
	return e, true
}

// generation returns the invalidation count to pass to put.
func (c *verifyCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores p, verified at now, with its account's IP policy pol (read at polAt), unless an
// invalidation happened since gen was read.
func (c *verifyCache) put(hash *[32]byte, p *Principal, pol *ipPolicy, polAt, now time.Time, gen uint64) {
	deadline := liveUntil(now, c.ttl)
	if pol != nil {
		deadline = min(deadline, liveUntil(polAt, c.ttl))
	}
	if p.until != 0 {
		deadline = min(deadline, p.until)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.max <= 0 {
		return
	}
	if old, ok := c.entries[*hash]; ok {
		delete(c.byToken, old.p.TokenID)
	} else if len(c.entries) >= c.max {
		// Evict an arbitrary entry (map order is random): cheap, and good enough when the
		// cache is sized above the working set.
		for k, e := range c.entries {
			c.remove(k, e.p.TokenID)
			break
		}
	}
	if k, ok := c.byToken[p.TokenID]; ok && k != *hash {
		// The token's id under another hash (its old-format hash upgraded): one entry per token.
		delete(c.entries, k)
	}
	c.entries[*hash] = cachedPrincipal{p: p, pol: pol, deadline: deadline}
	c.byToken[p.TokenID] = *hash
}

// liveUntil is the deadline of a value read at at: the TTL is inclusive, and a TTL past what
// Unix nanoseconds hold is forever rather than an overflow.
func liveUntil(at time.Time, ttl time.Duration) int64 {
	n := unixNanos(at.Add(ttl))
	if n < math.MaxInt64 {
		n++
	}
	return n
}

// remove drops one entry; c.mu is held.
func (c *verifyCache) remove(k [32]byte, tokenID TokenID) {
	delete(c.entries, k)
	if c.byToken[tokenID] == k {
		delete(c.byToken, tokenID)
	}
}

// remember caches a verified principal and its account's IP policy, unless the node does not
// trust its caches now.
func (s *Service) remember(hash *[32]byte, p *Principal, pol *ipPolicy, polAt time.Time, gen uint64, now time.Time) {
	if s.trusted(now) {
		s.cache.put(hash, p, pol, polAt, now, gen)
	}
}

// invalidate drops every entry inv names.
func (c *verifyCache) invalidate(inv Invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch {
	case inv.All:
		clear(c.entries)
		clear(c.byToken)
		return
	case inv.TokenID != 0:
		if k, ok := c.byToken[inv.TokenID]; ok {
			c.remove(k, inv.TokenID)
		}
		return
	}
	for k, e := range c.entries {
		if matches(e.p, inv) {
			c.remove(k, e.p.TokenID)
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
	m   map[AccountID]cacheEntry[V]
	ttl time.Duration
}

func (c *byAccount[V]) get(id AccountID, now time.Time) (V, bool) {
	v, _, ok := c.getAt(id, now)
	return v, ok
}

// getAt is get, also returning when the value was read from the store.
func (c *byAccount[V]) getAt(id AccountID, now time.Time) (V, time.Time, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !e.live(now, c.ttl) {
		var zero V
		return zero, time.Time{}, false
	}
	return e.v, e.storeAt, true
}

func (c *byAccount[V]) put(id AccountID, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[AccountID]cacheEntry[V])
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
func (s *Service) account(ctx context.Context, id AccountID) (*Account, error) {
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
