package tokend

import (
	"sync/atomic"
	"time"
)

// stats counts what the hot path did, for the metrics endpoint. Atomic adds only: no lock.
type stats struct {
	cached  atomic.Int64 // verifications answered from the cache
	stored  atomic.Int64 // verifications that read the store
	refused atomic.Int64 // tokens refused (invalid, expired, revoked, retired)
	never   atomic.Int64 // of those, well-formed tokens the filter showed were never issued
}

// Stats is a snapshot of the service's counters and gauges.
type Stats struct {
	VerifiedFromCache int64
	VerifiedFromStore int64
	Refused           int64
	// RefusedNeverIssued counts the refusals answered by the filter of issued tokens, without
	// the database; FilterTokens and FilterBytes are its size (zero until it is built).
	RefusedNeverIssued int64
	FilterTokens       int64
	FilterBytes        int
	CacheEntries       int
	PendingUses        int
	// FeedSeq is the last change-feed entry this node applied; CachesTrusted whether its
	// caches answer now (false while the feed cannot be read, see Service.Run).
	FeedSeq       int64
	CachesTrusted bool
	// FeedReadAt is when the last successful read of the feed started (zero: none yet, or
	// the Service does not read the feed).
	FeedReadAt time.Time
	// SlowHashes counts slow hashes run (old-format tokens and legacy keys).
	SlowHashes int64
}

// Stats returns the service's counters since start and its current cache size.
func (s *Service) Stats() Stats {
	s.usage.mu.Lock()
	pending := len(s.usage.pending)
	s.usage.mu.Unlock()
	var filterTokens int64
	var filterBytes int
	if f := s.known.cur.Load(); f != nil {
		filterTokens, filterBytes = f.n.Load(), f.bytes()
	}
	var readAt time.Time
	if n := s.feedReadAt.Load(); n != 0 {
		readAt = time.Unix(0, n)
	}
	return Stats{
		FeedReadAt:   readAt,
		FilterTokens: filterTokens, FilterBytes: filterBytes,
		VerifiedFromCache:  s.stats.cached.Load(),
		VerifiedFromStore:  s.stats.stored.Load(),
		Refused:            s.stats.refused.Load(),
		RefusedNeverIssued: s.stats.never.Load(),
		CacheEntries:       s.cache.len(),
		PendingUses:        pending,
		FeedSeq:            s.feedSeq.Load(),
		CachesTrusted:      s.trusted(s.now()),
		SlowHashes:         s.limits.slowHashes.Load(),
	}
}
