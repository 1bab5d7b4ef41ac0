package tokend

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// principalTable is the verification cache's storage: principals by the SHA-256 of their
// token, and by token id. It is one open-addressing table (linear probing) rather than two Go
// maps, for what a full cache costs under churn: a slot is the entry alone (48 bytes), the
// index by token id 4 bytes a slot, at most 4/5 of the slots are used, and a removal shifts
// the entries after it back instead of leaving a deleted slot, so that a cache that evicts and
// inserts all day keeps the size it had when it filled. (Go's maps keep deleted slots and grow
// past them: bench/mem's heap was half again as large after three rounds as after the first.)
// It is not safe for concurrent use; verifyCache locks around it.
type principalTable struct {
	slots []tableSlot // an empty slot has p == nil
	// index holds 1 + the slot of each entry (0: empty), placed by the entry's token id, in a
	// table as long as slots.
	index []uint32
	n     int
	// limit is the most slots the table grows to: enough for max entries at 4/5 full.
	limit int
	// seed is mixed into every position, so that no one can choose tokens (whose hashes they
	// know) that crowd one stretch of the table.
	seed uint64
}

// tableSlot is one cached principal: its token's SHA-256 as four words, and what it answers.
type tableSlot struct {
	h   [4]uint64
	p   *Principal
	pol *ipPolicy
}

func newPrincipalTable(max int) *principalTable {
	return &principalTable{limit: (max*5+3)/4 + 1, seed: rand.Uint64()}
}

// words is a token hash as the table keeps it.
func words(hash *[32]byte) [4]uint64 {
	return [4]uint64{
		binary.LittleEndian.Uint64(hash[0:8]), binary.LittleEndian.Uint64(hash[8:16]),
		binary.LittleEndian.Uint64(hash[16:24]), binary.LittleEndian.Uint64(hash[24:32]),
	}
}

// pos is where x's probe starts in a table of n slots: x mixed with the seed, scaled to n.
func (t *principalTable) pos(x uint64, n int) int {
	x ^= t.seed
	x ^= x >> 32
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	hi, _ := bits.Mul64(x, uint64(n))
	return int(hi)
}

// next is the slot after i, round the end.
func next(i, n int) int {
	if i++; i == n {
		return 0
	}
	return i
}

// stays reports whether an entry at j whose probe starts at home must stay where it is when
// the slot hole before it empties: it does when home lies cyclically in (hole, j].
func stays(home, hole, j int) bool {
	if hole <= j {
		return hole < home && home <= j
	}
	return hole < home || home <= j
}

// lookup returns the principal and policy under h, or nil.
func (t *principalTable) lookup(h *[4]uint64) (*Principal, *ipPolicy) {
	if i := t.find(h); i >= 0 {
		return t.slots[i].p, t.slots[i].pol
	}
	return nil, nil
}

// find returns the slot of h, or -1.
func (t *principalTable) find(h *[4]uint64) int {
	n := len(t.slots)
	if n == 0 {
		return -1
	}
	for i := t.pos(h[0], n); ; i = next(i, n) {
		s := &t.slots[i]
		if s.p == nil {
			return -1
		}
		if s.h[0] == h[0] && s.h[1] == h[1] && s.h[2] == h[2] && s.h[3] == h[3] {
			return i
		}
	}
}

// indexOf returns the index position of token id's entry, or -1.
func (t *principalTable) indexOf(id TokenID) int {
	n := len(t.index)
	if n == 0 {
		return -1
	}
	for i := t.pos(uint64(id), n); t.index[i] != 0; i = next(i, n) {
		if t.slots[t.index[i]-1].p.TokenID == id {
			return i
		}
	}
	return -1
}

// insert adds an entry for a hash and a token id that the table does not hold.
func (t *principalTable) insert(h *[4]uint64, p *Principal, pol *ipPolicy) {
	if (t.n+1)*5 > len(t.slots)*4 {
		t.grow()
	}
	t.place(tableSlot{h: *h, p: p, pol: pol})
}

// place puts s in the first free slot of its probe, and indexes it; there is room.
func (t *principalTable) place(s tableSlot) {
	n := len(t.slots)
	i := t.pos(s.h[0], n)
	for t.slots[i].p != nil {
		i = next(i, n)
	}
	t.slots[i] = s
	j := t.pos(uint64(s.p.TokenID), n)
	for t.index[j] != 0 {
		j = next(j, n)
	}
	t.index[j] = uint32(i) + 1
	t.n++
}

// grow doubles the table, up to its limit, and places every entry again. It runs only while
// the cache fills: a full cache's table stays the size it is.
func (t *principalTable) grow() {
	size := min(max(2*len(t.slots), 16), t.limit)
	old := t.slots
	t.slots, t.index, t.n = make([]tableSlot, size), make([]uint32, size), 0
	for _, s := range old {
		if s.p != nil {
			t.place(s)
		}
	}
}

// removeToken drops token id's entry, if there is one.
func (t *principalTable) removeToken(id TokenID) {
	if q := t.indexOf(id); q >= 0 {
		t.removeAt(int(t.index[q]) - 1)
	}
}

// removeAt drops the entry in slot i, and moves back the entries after it that may move, so
// that every probe still finds its entry without deleted slots to step over.
func (t *principalTable) removeAt(i int) {
	t.unindex(t.slots[i].p.TokenID)
	n := len(t.slots)
	hole := i
	for j := next(i, n); t.slots[j].p != nil; j = next(j, n) {
		if stays(t.pos(t.slots[j].h[0], n), hole, j) {
			continue
		}
		t.slots[hole] = t.slots[j]
		t.reindex(t.slots[hole].p.TokenID, j, hole)
		hole = j
	}
	t.slots[hole] = tableSlot{}
	t.n--
}

// unindex drops token id's index entry, moving back the ones after it likewise.
func (t *principalTable) unindex(id TokenID) {
	q := t.indexOf(id)
	n := len(t.index)
	hole := q
	for j := next(q, n); t.index[j] != 0; j = next(j, n) {
		if stays(t.pos(uint64(t.slots[t.index[j]-1].p.TokenID), n), hole, j) {
			continue
		}
		t.index[hole] = t.index[j]
		hole = j
	}
	t.index[hole] = 0
}

// reindex points token id's index entry at slot to instead of from.
func (t *principalTable) reindex(id TokenID, from, to int) {
	n := len(t.index)
	i := t.pos(uint64(id), n)
	for t.index[i] != uint32(from)+1 {
		i = next(i, n)
	}
	t.index[i] = uint32(to) + 1
}

// evict drops an arbitrary entry: the first at or after a position r picks. The table holds
// at least one.
func (t *principalTable) evict(r uint64) {
	n := len(t.slots)
	i := t.pos(r, n)
	for t.slots[i].p == nil {
		i = next(i, n)
	}
	t.removeAt(i)
}

// clear drops every entry and keeps the slots.
func (t *principalTable) clear() {
	clear(t.slots)
	clear(t.index)
	t.n = 0
}
