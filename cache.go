package tokend

import (
	"context"
	"math"
	"runtime"
	"sync"
	"time"
	"weak"

	"tokend/perm"
)

// Invalidation names what changed. Cached principals that depend on it are dropped at once on
// every node. Zero fields are wildcards only in the combinations documented on each field.
type Invalidation struct {
	All       bool      // drop everything
	TokenID   TokenID   // drop this token
	UserID    UserID    // drop the user's tokens (in AccountID, when set)
	AccountID AccountID // with UserID zero: drop every token of the account
	// Projects, with AccountID, drops only the account's projects (a project was created or
	// changed), not its tokens, row or IP policy: no principal depends on a project's row
	// (a project's grants stay when it is deleted, inert, and count again if it is restored).
	Projects bool
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

// verifyCache maps the SHA-256 of a token string to its verified principal, and its account's
// compiled IP policy (nil when the principal has no account), shared with the account's other
// tokens. The policy is the one the principal was verified with; every change of it drops the
// account's principals (Invalidation{AccountID}), so it is as current as the principal. Until
// when an entry answers is its principal's deadline. The cache never sees a raw token.
type verifyCache struct {
	mu sync.RWMutex
	// t holds the entries, found by hash and, so that dropping one token (a revocation, or
	// the feed entry of every issued token) costs a lookup rather than a scan, by token id.
	t   *principalTable
	max int
	ttl time.Duration
	// gen counts invalidations, so that a verification that started before one cannot put a
	// principal built from stale rows into the cache after it. The account and IP caches
	// use it too.
	gen uint64
}

func newVerifyCache(max int, ttl time.Duration) *verifyCache {
	return &verifyCache{t: newPrincipalTable(max), max: max, ttl: ttl}
}

// get returns the principal and IP policy cached for hash, if they answer at now (Unix
// nanoseconds).
func (c *verifyCache) get(hash *[32]byte, now int64) (*Principal, *ipPolicy, bool) {
	h := words(hash)
	c.mu.RLock()
	p, pol := c.t.lookup(&h)
	c.mu.RUnlock()
	if p == nil || now >= p.deadline {
		return nil, nil, false
	}
	return p, pol, true
}

// generation returns the invalidation count to pass to put.
func (c *verifyCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores p, verified at now, with its account's IP policy pol (read at polAt), unless an
// invalidation happened since gen was read. p is not shared yet: put sets its deadline.
func (c *verifyCache) put(hash *[32]byte, p *Principal, pol *ipPolicy, polAt, now time.Time, gen uint64) {
	// The earliest of the principal's and its policy's reads plus the TTL, and of the token's
	// end (its expiry, or the account's maximum lifetime), so that the hot path makes one
	// comparison for all three.
	deadline := liveUntil(now, c.ttl)
	if pol != nil {
		deadline = min(deadline, liveUntil(polAt, c.ttl))
	}
	if p.until != 0 {
		deadline = min(deadline, p.until)
	}
	p.deadline = deadline
	h := words(hash)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.max <= 0 {
		return
	}
	if i := c.t.find(&h); i >= 0 {
		c.t.removeAt(i) // the same token string again
	}
	// The token's id under another hash (its old-format hash upgraded): one entry per token.
	c.t.removeToken(p.TokenID)
	if c.t.n >= c.max {
		// Evict an arbitrary entry: cheap, and good enough when the cache is sized above the
		// working set.
		c.t.evict(h[1])
	}
	c.t.insert(&h, p, pol)
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

// rightsPool hands out one rights per distinct permission set, so that the principals the
// verification cache holds share them: one user's tokens in one account, and the members whose
// license and groups grant the same, hold one copy between them. rights are immutable and
// equal ones are interchangeable, so sharing needs no invalidation of its own: whatever drops
// the principals, the next one built gets rights equal to the rows it was built from. A pool
// entry lasts as long as some principal holds its rights (a weak pointer, forgotten after the
// collector frees them).
type rightsPool struct {
	uses *capRecorder // every pooled rights records its uses here
	mu   sync.Mutex
	m    map[string]weak.Pointer[rights] // by perm.Evaluated.AppendKey
}

// get returns the pool's rights for perms.
func (rp *rightsPool) get(perms perm.Evaluated) *rights {
	var buf [256]byte
	key := perms.AppendKey(buf[:0])
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if r := rp.m[string(key)].Value(); r != nil {
		return r
	}
	if rp.m == nil {
		rp.m = make(map[string]weak.Pointer[rights])
	}
	r := &rights{perms: perms, uses: rp.uses}
	k := string(key)
	rp.m[k] = weak.Make(r)
	runtime.AddCleanup(r, rp.forget, k)
	return r
}

// forget drops the entry under k once its rights are freed (and not replaced since).
func (rp *rightsPool) forget(k string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if w, ok := rp.m[k]; ok && w.Value() == nil {
		delete(rp.m, k)
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
		c.t.clear()
		return
	case inv.TokenID != 0:
		c.t.removeToken(inv.TokenID)
		return
	case inv.Projects:
		// Nothing cached here depends on projects; gen moved, so that a projects list read
		// before the change is not put (listProjectsFromMemory).
		return
	}
	var drop []TokenID
	for i := range c.t.slots {
		if p := c.t.slots[i].p; p != nil && matches(p, inv) {
			drop = append(drop, p.TokenID)
		}
	}
	for _, id := range drop {
		c.t.removeToken(id)
	}
}

func (c *verifyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.t.n
}

// matches reports whether inv drops p. invalidate answers All and Projects itself.
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
