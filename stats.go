package tokend

import "sync/atomic"

// stats counts what the hot path did, for the metrics endpoint. Atomic adds only: no lock.
type stats struct {
	cached  atomic.Int64 // verifications answered from the cache
	stored  atomic.Int64 // verifications that read the store
	refused atomic.Int64 // tokens refused (invalid, expired, revoked, retired)
}

// Stats is a snapshot of the service's counters and gauges.
type Stats struct {
	VerifiedFromCache int64
	VerifiedFromStore int64
	Refused           int64
	CacheEntries      int
	PendingUses       int
	// FeedSeq is the last change-feed entry this node applied; CachesTrusted whether its
	// caches answer now (false while the feed cannot be read, see Service.Run).
	FeedSeq       int64
	CachesTrusted bool
}

// Stats returns the service's counters since start and its current cache size.
func (s *Service) Stats() Stats {
	s.usage.mu.Lock()
	pending := len(s.usage.pending)
	s.usage.mu.Unlock()
	return Stats{
		VerifiedFromCache: s.stats.cached.Load(),
		VerifiedFromStore: s.stats.stored.Load(),
		Refused:           s.stats.refused.Load(),
		CacheEntries:      s.cache.len(),
		PendingUses:       pending,
		FeedSeq:           s.feedSeq.Load(),
		CachesTrusted:     s.trusted(s.now()),
	}
}
