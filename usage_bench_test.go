package tokend

import (
	"hash/maphash"
	"testing"
	"time"
)

// BenchmarkRecordUse is what the hot path does for each use of a cached token: the usage
// record, and the address fold for token.new_ip: from the address of the token's last use (the
// steady state: a string comparison), and from another address each time (the recorder's
// lookup, and a new last address). Compare them within one run.
func BenchmarkRecordUse(b *testing.B) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ps := make([]*Principal, 1000)
	for i := range ps {
		ps[i] = &Principal{Kind: KindService, TokenID: TokenID(i + 1), AccountID: 1}
	}
	b.Run("usage-only", func(b *testing.B) {
		s := &Service{usage: newUsageRecorder(), addrSeed: maphash.MakeSeed()}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.usage.record(ps[i%1000].TokenID, at, "198.51.100.7")
		}
	})
	b.Run("same-address", func(b *testing.B) {
		s := &Service{usage: newUsageRecorder(), addrSeed: maphash.MakeSeed()}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p := ps[i%1000]
			s.usage.record(p.TokenID, at, "198.51.100.7")
			s.noteAddress(p, "198.51.100.7", at)
		}
	})
	b.Run("alternating-addresses", func(b *testing.B) {
		s := &Service{usage: newUsageRecorder(), addrSeed: maphash.MakeSeed()}
		ips := [2]string{"198.51.100.7", "198.51.100.8"}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			p := ps[i%1000]
			ip := ips[i/1000%2]
			s.usage.record(p.TokenID, at, ip)
			s.noteAddress(p, ip, at)
		}
	})
}
