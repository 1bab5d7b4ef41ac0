package tokend

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// TestTokenFilterFalsePositives fills a filter to its capacity with random token hashes and
// asks it about as many others: every stored one must be found, and the others pass at the
// rate docs/benchmarks.md states (about 0.1%; refused here above 0.3%).
func TestTokenFilterFalsePositives(t *testing.T) {
	for _, n := range []int64{filterMinKeys, 1_000_000} {
		f := newTokenFilter(n)
		var seed [16]byte
		rand.Read(seed[:])
		key := func(i int64, salt byte) [32]byte {
			var b [25]byte
			copy(b[:], seed[:])
			binary.LittleEndian.PutUint64(b[16:], uint64(i))
			b[24] = salt
			return sha256.Sum256(b[:])
		}
		for i := range f.capacity {
			h := key(i, 0)
			f.add(&h)
		}
		for i := range f.capacity {
			if h := key(i, 0); !f.mayContain(&h) {
				t.Fatalf("n=%d: stored hash %d: got absent, want present", n, i)
			}
		}
		var pass int64
		for i := range f.capacity {
			if h := key(i, 1); f.mayContain(&h) {
				pass++
			}
		}
		rate := float64(pass) / float64(f.capacity)
		t.Logf("capacity %d: %d bytes (%.1f bits per token), false positives %.4f%%", f.capacity, f.bytes(),
			float64(f.bytes()*8)/float64(f.capacity), 100*rate)
		if rate > 0.003 {
			t.Errorf("capacity %d: false positive rate got %.4f%%, want at most 0.3%%", f.capacity, 100*rate)
		}
	}
}
