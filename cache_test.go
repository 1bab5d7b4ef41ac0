package tokend

import (
	"math"
	"runtime"
	"testing"
	"time"

	"tokend/perm"
)

// TestVerifyCacheDropsByToken: dropping one token finds its entry through the index, leaves
// the others, and the index follows puts, evictions and drops.
func TestVerifyCacheDropsByToken(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	key := func(b byte) *[32]byte { return &[32]byte{b} }
	p := func(id int64) *Principal { return &Principal{Kind: KindPAT, TokenID: TokenID(id), AccountID: 7} }
	tests := []struct {
		name     string
		max      int
		put      []int64 // token ids, each under key(byte(id))
		drop     Invalidation
		wantLeft []int64
	}{
		{"one token", 10, []int64{1, 2, 3}, Invalidation{TokenID: 2}, []int64{1, 3}},
		{"a token not cached (just issued)", 10, []int64{1, 2}, Invalidation{TokenID: 9}, []int64{1, 2}},
		{"the account", 10, []int64{1, 2}, Invalidation{AccountID: 7}, nil},
		{"everything", 10, []int64{1, 2}, Invalidation{All: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newVerifyCache(tt.max, time.Minute)
			for _, id := range tt.put {
				c.put(key(byte(id)), p(id), nil, time.Time{}, now, c.generation())
			}
			c.invalidate(tt.drop)
			if got, want := c.len(), len(tt.wantLeft); got != want {
				t.Fatalf("entries: got %d, want %d", got, want)
			}
			if got, want := len(c.byToken), len(tt.wantLeft); got != want {
				t.Errorf("index entries: got %d, want %d", got, want)
			}
			for _, id := range tt.wantLeft {
				if _, _, ok := c.get(key(byte(id)), now.UnixNano()); !ok {
					t.Errorf("token %d: got no entry, want one", id)
				}
			}
		})
	}

	t.Run("eviction keeps the index", func(t *testing.T) {
		c := newVerifyCache(2, time.Minute)
		for id := int64(1); id <= 5; id++ {
			c.put(key(byte(id)), p(id), nil, time.Time{}, now, c.generation())
		}
		if got, want := len(c.byToken), c.len(); got != want || got != 2 {
			t.Fatalf("index entries: got %d, entries %d, want 2 and 2", got, want)
		}
		for id, k := range c.byToken {
			if e, ok := c.entries[k]; !ok || e.p.TokenID != id {
				t.Errorf("index: token %d points to a missing or other entry", id)
			}
		}
	})

	t.Run("one entry per token", func(t *testing.T) {
		c := newVerifyCache(10, time.Minute)
		c.put(key(1), p(1), nil, time.Time{}, now, c.generation())
		c.put(key(2), p(1), nil, time.Time{}, now, c.generation())
		c.invalidate(Invalidation{TokenID: 1})
		if got := c.len(); got != 0 {
			t.Errorf("entries after dropping the token: got %d, want 0", got)
		}
	})
}

// TestVerifyCacheDeadline: an entry answers until the earliest of its TTL, its IP policy's
// TTL (counted from when the policy was read) and the token's end.
func TestVerifyCacheDeadline(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ttl := time.Minute
	tests := []struct {
		name  string
		until time.Time // the token's end; zero: never
		polAt time.Time // zero: no policy
		want  time.Time // the last instant the entry answers
	}{
		{"the TTL", time.Time{}, time.Time{}, now.Add(ttl)},
		{"the policy read earlier", time.Time{}, now.Add(-20 * time.Second), now.Add(40 * time.Second)},
		{"the token's end", now.Add(10 * time.Second), now, now.Add(10*time.Second - time.Nanosecond)},
	}
	t.Run("a TTL past 2262", func(t *testing.T) {
		c := newVerifyCache(10, time.Duration(math.MaxInt64))
		k := &[32]byte{1}
		c.put(k, &Principal{TokenID: 1}, nil, time.Time{}, now, c.generation())
		if _, _, ok := c.get(k, now.Add(time.Hour).UnixNano()); !ok {
			t.Errorf("an hour later: got no entry, want one")
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newVerifyCache(10, ttl)
			k := &[32]byte{1}
			var pol *ipPolicy
			if !tt.polAt.IsZero() {
				pol = &ipPolicy{}
			}
			c.put(k, &Principal{TokenID: 1, until: unixNanos(tt.until)}, pol, tt.polAt, now, c.generation())
			if _, _, ok := c.get(k, tt.want.UnixNano()); !ok {
				t.Errorf("at %v: got no entry, want one", tt.want.Sub(now))
			}
			if _, _, ok := c.get(k, tt.want.UnixNano()+1); ok {
				t.Errorf("at %v + 1ns: got an entry, want none", tt.want.Sub(now))
			}
		})
	}
}

// TestVerifyCacheHashPrefix: the cache's maps are keyed by a hash's first 8 bytes. Two tokens
// whose hashes share them never answer with each other's principal: the second put replaces
// the first, and the first is then not cached.
func TestVerifyCacheHashPrefix(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a, b := &[32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, &[32]byte{1, 2, 3, 4, 5, 6, 7, 8, 10}
	pa, pb := &Principal{Kind: KindPAT, TokenID: 1}, &Principal{Kind: KindPAT, TokenID: 2}
	c := newVerifyCache(10, time.Minute)
	c.put(a, pa, nil, time.Time{}, now, c.generation())
	if p, _, ok := c.get(b, now.UnixNano()); ok {
		t.Fatalf("b before its put: got token %d's entry, want none", p.TokenID)
	}
	c.put(b, pb, nil, time.Time{}, now, c.generation())
	if p, _, ok := c.get(a, now.UnixNano()); ok {
		t.Errorf("a after b's put: got token %d's entry, want none", p.TokenID)
	}
	if p, _, ok := c.get(b, now.UnixNano()); !ok || p != pb {
		t.Errorf("b: got %v (%v), want token 2's entry", p, ok)
	}
	if got, want := len(c.byToken), 1; got != want || c.len() != want {
		t.Errorf("index entries: got %d, entries %d, want %d and %d", got, c.len(), want, want)
	}
	c.invalidate(Invalidation{TokenID: 1})
	if _, _, ok := c.get(b, now.UnixNano()); !ok {
		t.Errorf("b after dropping token 1: got no entry, want its own")
	}
	c.invalidate(Invalidation{TokenID: 2})
	if got := c.len(); got != 0 {
		t.Errorf("entries after dropping token 2: got %d, want 0", got)
	}
}

// TestRightsPool: equal permission sets are handed out once, different ones apart, and the
// pool forgets a set once no principal holds it.
func TestRightsPool(t *testing.T) {
	dev := func(projects ...int64) perm.Evaluated {
		var gs []perm.Grant
		for _, id := range projects {
			gs = append(gs, perm.Grant{Set: perm.Developer, ProjectID: id})
		}
		return perm.Evaluate(gs)
	}
	uses := newCapRecorder(time.Now)
	rp := &rightsPool{uses: uses}
	r1, r2, other := rp.get(dev(1, 2)), rp.get(dev(2, 1)), rp.get(dev(1))
	if r1 != r2 {
		t.Errorf("the same set twice: got two copies, want one")
	}
	if r1 == other {
		t.Errorf("two sets: got one copy, want two")
	}
	if r1.uses != uses || !r1.perms.Allows(perm.Projects, perm.Read, 2) || other.perms.Allows(perm.Projects, perm.Read, 2) {
		t.Errorf("got rights that do not hold what they were built from")
	}
	runtime.KeepAlive(r1)
	runtime.KeepAlive(r2)
	runtime.KeepAlive(other)
	for i := 0; ; i++ {
		runtime.GC()
		rp.mu.Lock()
		n := len(rp.m)
		rp.mu.Unlock()
		if n == 0 {
			break
		}
		if i == 1000 {
			t.Fatalf("pool entries after their rights were freed: got %d, want 0", n)
		}
		time.Sleep(time.Millisecond)
	}
}
