package tokend

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
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
			checkTable(t, c.t)
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
		if got := c.len(); got != 2 {
			t.Fatalf("entries: got %d, want 2", got)
		}
		checkTable(t, c.t)
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

// TestVerifyCacheSimilarHashes: two tokens whose hashes start alike (so their probes start
// in one slot) are both cached, each answers with its own principal, and dropping either
// leaves the other found.
func TestVerifyCacheSimilarHashes(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	a, b := &[32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, &[32]byte{1, 2, 3, 4, 5, 6, 7, 8, 10}
	for _, drop := range []TokenID{1, 2} {
		pa, pb := &Principal{Kind: KindPAT, TokenID: 1}, &Principal{Kind: KindPAT, TokenID: 2}
		c := newVerifyCache(10, time.Minute)
		c.put(a, pa, nil, time.Time{}, now, c.generation())
		if p, _, ok := c.get(b, now.UnixNano()); ok {
			t.Fatalf("b before its put: got token %d's entry, want none", p.TokenID)
		}
		c.put(b, pb, nil, time.Time{}, now, c.generation())
		for _, tt := range []struct {
			hash *[32]byte
			want *Principal
		}{{a, pa}, {b, pb}} {
			if p, _, ok := c.get(tt.hash, now.UnixNano()); !ok || p != tt.want {
				t.Errorf("token %d: got %v (%v), want its own entry", tt.want.TokenID, p, ok)
			}
		}
		c.invalidate(Invalidation{TokenID: drop})
		checkTable(t, c.t)
		left, leftP := b, pb
		if drop == 2 {
			left, leftP = a, pa
		}
		if p, _, ok := c.get(left, now.UnixNano()); !ok || p != leftP {
			t.Errorf("after dropping token %d: got %v (%v), want token %d's entry", drop, p, ok, leftP.TokenID)
		}
	}
}

// TestPrincipalTableChurn puts, replaces, evicts and drops at random in small tables whose
// hashes share few first words (long probes that wrap round the end), and checks after each
// step that every entry is found where its probe leads, by hash and by token id, with the
// principal put under that hash; that a dropped token is not found; and that the table holds
// no more than its maximum.
func TestPrincipalTableChurn(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, max := range []int{1, 2, 3, 7, 16, 50} {
		c := newVerifyCache(max, time.Hour)
		put := map[[32]byte]*Principal{} // the last principal put under each hash
		hashOf := map[TokenID][32]byte{}
		for step := range 3000 {
			id := TokenID(1 + rng.IntN(2*max+2))
			var h [32]byte
			h[0], h[8], h[31] = byte(rng.IntN(3)), byte(rng.IntN(4)), byte(step%5)
			h[1] = byte(id)
			switch r := rng.IntN(20); {
			case r < 14:
				p := &Principal{Kind: KindPAT, TokenID: id, AccountID: AccountID(1 + id%3)}
				c.put(&h, p, nil, time.Time{}, now, c.generation())
				put[h], hashOf[id] = p, h
				if got, _, ok := c.get(&h, now.UnixNano()); !ok || got != p {
					t.Fatalf("max %d, step %d: the principal just put: got %v (%v), want it", max, step, got, ok)
				}
			case r < 18:
				c.invalidate(Invalidation{TokenID: id})
				if h, ok := hashOf[id]; ok {
					if got, _, ok := c.get(&h, now.UnixNano()); ok && got.TokenID == id {
						t.Fatalf("max %d, step %d: token %d after its drop: got an entry, want none", max, step, id)
					}
				}
			case r < 19:
				acct := AccountID(1 + id%3)
				c.invalidate(Invalidation{AccountID: acct})
				for _, s := range c.t.slots {
					if s.p != nil && s.p.AccountID == acct {
						t.Fatalf("max %d, step %d: token %d of account %d after the account's drop: got an entry, want none",
							max, step, s.p.TokenID, acct)
					}
				}
			default:
				c.invalidate(Invalidation{All: true})
				if c.t.n != 0 {
					t.Fatalf("max %d, step %d: after dropping all: got %d entries, want none", max, step, c.t.n)
				}
			}
			checkTable(t, c.t)
			if c.t.n > max {
				t.Fatalf("max %d, step %d: got %d entries", max, step, c.t.n)
			}
			for _, s := range c.t.slots {
				if s.p != nil && put[[32]byte(binaryWords(s.h))] != s.p {
					t.Fatalf("max %d, step %d: token %d is under a hash it was not put with", max, step, s.p.TokenID)
				}
			}
		}
	}
}

// binaryWords is words undone.
func binaryWords(h [4]uint64) []byte {
	var b []byte
	for _, w := range h {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// checkTable checks the table's invariants: n entries, each found by its hash's probe and by
// its token id through the index, one per token id, and an index entry for each and no other.
func checkTable(tb testing.TB, t *principalTable) {
	tb.Helper()
	n, ids := 0, map[TokenID]bool{}
	for i, s := range t.slots {
		if s.p == nil {
			continue
		}
		n++
		if ids[s.p.TokenID] {
			tb.Fatalf("token %d: got two entries, want one", s.p.TokenID)
		}
		ids[s.p.TokenID] = true
		if got := t.find(&s.h); got != i {
			tb.Fatalf("token %d in slot %d: its hash finds slot %d", s.p.TokenID, i, got)
		}
		if q := t.indexOf(s.p.TokenID); q < 0 || int(t.index[q])-1 != i {
			tb.Fatalf("token %d in slot %d: the index points to %d", s.p.TokenID, i, q)
		}
	}
	indexed := 0
	for _, v := range t.index {
		if v != 0 {
			indexed++
		}
	}
	if n != t.n || indexed != t.n {
		tb.Fatalf("got %d entries and %d index entries, counted %d", n, indexed, t.n)
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
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		runtime.GC()
		rp.mu.Lock()
		n := len(rp.m)
		rp.mu.Unlock()
		if n == 0 {
			break
		}
		if i == 1000 || time.Now().After(deadline) {
			t.Fatalf("pool entries after their rights were freed: got %d, want 0", n)
		}
		time.Sleep(time.Millisecond)
	}
}
