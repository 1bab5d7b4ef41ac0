package tokend

import (
	"context"
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// A well-formed token that was never issued costs, without a filter, one indexed lookup: anyone
// who can compute the checksum can make every request a database read. knownTokens answers
// "never issued" from memory: a Bloom filter of the SHA-256 of every stored token string of
// the current format (deleted and expired ones included, so that their refusal still reads
// the row and writes its audit event), built from the store at start and added to by every
// token this node issues.
//
// When a miss may be trusted is neverIssued's rule. Only current-format tokens are asked
// about: old-format tokens and legacy keys are found by uid, and one upgraded to the fast hash
// on another node is not in this node's filter.

// Filter sizing: 16 bits per token in blocks of 512 bits (one cache line), 8 bits per token
// in its block. A token never issued passes with a probability of about 0.1% (measured in
// filter_test.go); 1,000,000 tokens take 2 MiB.
const (
	filterBitsPerKey = 16
	filterK          = 8
	filterMinKeys    = 1 << 16
)

// tokenFilter is a blocked Bloom filter keyed by SHA-256 hashes, which are uniform already:
// the first 8 bytes pick the block, the next 9 give 8 bit positions of 9 bits. Reads and adds
// are lock-free (adds are atomic ORs), so the hot path takes no lock.
type tokenFilter struct {
	blocks   uint64
	words    []atomic.Uint64 // 8 per block
	n        atomic.Int64    // keys added
	capacity int64
}

func newTokenFilter(capacity int64) *tokenFilter {
	capacity = max(capacity, filterMinKeys)
	blocks := uint64((capacity*filterBitsPerKey + 511) / 512)
	return &tokenFilter{blocks: blocks, words: make([]atomic.Uint64, blocks*8), capacity: capacity}
}

// base returns the index of the first word of h's block.
func (f *tokenFilter) base(h *[32]byte) uint64 {
	block, _ := bits.Mul64(binary.LittleEndian.Uint64(h[0:8]), f.blocks)
	return block * 8
}

// bit returns the i-th bit position (0–511) of h in its block: 9 bits each, from byte 8 on.
func bit(h *[32]byte, i int) uint {
	off := 8*8 + i*9 // bit offset from the start of h
	v := uint(h[off/8]) | uint(h[off/8+1])<<8
	return (v >> (off % 8)) & 511
}

func (f *tokenFilter) add(h *[32]byte) {
	base := f.base(h)
	for i := range filterK {
		p := bit(h, i)
		f.words[base+uint64(p/64)].Or(1 << (p % 64))
	}
	f.n.Add(1)
}

func (f *tokenFilter) mayContain(h *[32]byte) bool {
	base := f.base(h)
	for i := range filterK {
		p := bit(h, i)
		if f.words[base+uint64(p/64)].Load()&(1<<(p%64)) == 0 {
			return false
		}
	}
	return true
}

// bytes is the filter's memory.
func (f *tokenFilter) bytes() int { return len(f.words) * 8 }

// knownTokens holds the current filter and rebuilds it from the store when it fills.
type knownTokens struct {
	cur atomic.Pointer[tokenFilter] // nil until built
	// mu orders adds against a rebuild: a rebuild's new filter gets every add made while it
	// scans the store (next), so none falls between the scan and the swap.
	mu         sync.Mutex
	next       *tokenFilter
	rebuilding bool
}

// has reports whether the filter is built and h may be stored; ok is false when there is no
// filter to ask.
func (k *knownTokens) has(h *[32]byte) (may, ok bool) {
	f := k.cur.Load()
	if f == nil {
		return true, false
	}
	return f.mayContain(h), true
}

// add records a token this node stores. It reports whether the filter is past its capacity
// (the caller starts a rebuild).
func (k *knownTokens) add(h *[32]byte) (full bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.next != nil {
		k.next.add(h)
	}
	f := k.cur.Load()
	if f == nil {
		return false
	}
	f.add(h)
	return f.n.Load() > f.capacity && !k.rebuilding
}

// start begins a new filter sized for capacity tokens: from now on every add also goes to it.
// fill then reads the store into it. Tokens committed before start are in the store's
// snapshot that fill reads; later ones are added to the new filter by whoever learns of them
// (the issuing node after its commit, the others from the change feed).
func (k *knownTokens) start(capacity int64) *tokenFilter {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.next = newTokenFilter(capacity)
	k.rebuilding = true
	return k.next
}

// fill reads every stored hash into next and makes it the filter; a store holding more tokens
// than next was sized for is read again into a bigger one.
func (k *knownTokens) fill(ctx context.Context, st Store, next *tokenFilter) error {
	defer func() {
		k.mu.Lock()
		k.next, k.rebuilding = nil, false
		k.mu.Unlock()
	}()
	for {
		var h [32]byte
		err := st.TokenHashes(ctx, func(b []byte) {
			if copy(h[:], b) == len(h) {
				next.add(&h)
			}
		})
		if err != nil {
			return err
		}
		if next.n.Load() <= next.capacity {
			k.cur.Store(next)
			return nil
		}
		next = k.start(2 * next.n.Load())
	}
}

// capacityFor is the size of a rebuilt filter: twice what the current one holds.
func (k *knownTokens) capacityFor() int64 {
	if f := k.cur.Load(); f != nil {
		return 2 * f.n.Load()
	}
	return filterMinKeys
}

// LoadTokenFilter builds the filter of issued tokens from the store, and reads the token tag
// key and seal (tags.go). Run does both when it starts reading the change feed; a Service that
// is not Run (tools, benchmarks) may call it so that tokens never issued are refused from
// memory.
func (s *Service) LoadTokenFilter(ctx context.Context) error {
	s.refreshTags(ctx)
	return s.known.fill(ctx, s.store, s.known.start(s.known.capacityFor()))
}

// addKnown records a token this node stored, and rebuilds the filter, bigger, once it is full.
func (s *Service) addKnown(h *[32]byte) {
	if !s.known.add(h) {
		return
	}
	next := s.known.start(2 * s.known.cur.Load().n.Load())
	go func() {
		if err := s.known.fill(context.Background(), s.store, next); err != nil {
			s.log.Warn("rebuild the filter of issued tokens", "err", err)
		}
	}()
}

// neverIssued reports whether raw, a current-format token (tagged or not) of hash h, was
// certainly never stored, so that it can be refused without the database. It answers only
// while the node trusts its caches (the change feed is live). A miss of a token that another
// node may have minted an instant ago (mustWait: a tagged token with this cluster's tag, or
// an untagged one before the seal) only counts once the filter has caught up with a read of
// the feed that began after the request arrived: such a token is in the feed, committed with
// it, before its string reached anyone. Requests that wait share that read; a node whose feed
// read does not come in time asks the store. Any other miss is refused at once.
func (s *Service) neverIssued(ctx context.Context, raw string, tagged bool, h *[32]byte, now time.Time) bool {
	if !s.trusted(now) {
		return false
	}
	if may, ok := s.known.has(h); ok && may || !ok {
		return false
	}
	if !s.feedSync.running.Load() {
		return true // no feed reader: no other node to hear from
	}
	if !s.mustWait(raw, tagged) {
		return true
	}
	s.stats.neverWaits.Add(1)
	if !s.feedSync.wait(ctx, s.opts.FeedPollInterval) {
		return false
	}
	may, _ := s.known.has(h)
	return !may
}

// syncGap is the least time between two reads of the feed asked for by requests.
const syncGap = 2 * time.Millisecond

// feedSync lets requests wait for a read of the change feed that starts after they ask, or
// for any read to end (waitRead).
type feedSync struct {
	running atomic.Bool // a feed reader runs
	want    chan struct{}
	mu      sync.Mutex
	next    *feedRound
	reading *feedRound // the read begun last (it may have ended)
}

// feedRound is one read of the feed; done is closed when it ends, ok tells whether it read up
// to the newest entry.
type feedRound struct {
	done chan struct{}
	ok   bool
}

func newFeedSync() *feedSync {
	return &feedSync{want: make(chan struct{}, 1), next: &feedRound{done: make(chan struct{})}}
}

// wait asks for a read of the feed and waits, at most d, for one that started after the call.
func (f *feedSync) wait(ctx context.Context, d time.Duration) bool {
	f.mu.Lock()
	r := f.next
	f.mu.Unlock()
	return f.await(ctx, r, d)
}

// waitRead waits, at most d, for a read of the feed to end: the one under way, else the next
// (which it asks for). Unlike wait, a read begun before the call will do: whether it lets the
// caches answer again is the trust rule's to say.
func (f *feedSync) waitRead(ctx context.Context, d time.Duration) bool {
	f.mu.Lock()
	r := f.reading
	if r == nil || r.ended() {
		r = f.next
	}
	f.mu.Unlock()
	return f.await(ctx, r, d)
}

// await asks for a read and waits, at most d, for r to end; it reports whether r succeeded.
func (f *feedSync) await(ctx context.Context, r *feedRound, d time.Duration) bool {
	select {
	case f.want <- struct{}{}:
	default: // already asked
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.done:
		return r.ok
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// begin is called by the reader as a read starts: the read serves everyone waiting now.
func (f *feedSync) begin() *feedRound {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.next
	f.next = &feedRound{done: make(chan struct{})}
	f.reading = r
	return r
}

func (r *feedRound) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// end reports the read's outcome to its waiters.
func (r *feedRound) end(ok bool) {
	r.ok = ok
	close(r.done)
}

// learnTokens adds to the filter the tokens named by feed entries (issued on some node, or
// changed), before the reader moves past them.
func (s *Service) learnTokens(ctx context.Context, cs []Change) error {
	for _, c := range cs {
		if c.TokenID == 0 {
			continue
		}
		t, err := s.store.TokenUnscoped(ctx, c.TokenID)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if len(t.Hash) == 32 {
			s.addKnown((*[32]byte)(t.Hash))
		}
	}
	return nil
}
