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
	// neverWaits counts filter misses that waited for a read of the feed (tags.go's rule).
	neverWaits atomic.Int64

	// outcomes counts authentications by the token's kind (unknown when refused before it
	// was known) and outcome; indexes are authKinds' and authOutcomes'.
	outcomes [len(authKinds)][len(authOutcomes)]atomic.Int64

	// webhooks counts webhook delivery attempts by outcome; indexes are WebhookOutcomes'.
	webhooks [len(WebhookOutcomes)]atomic.Int64
}

// WebhookOutcomes are the outcomes webhook delivery attempts are counted by: delivered (the
// endpoint answered 2xx), retry (it did not; the message is tried again later), failed (it did
// not, and the message's retries ran out).
var WebhookOutcomes = [...]string{"delivered", "retry", "failed"}

// The kinds and outcomes authentications are counted by, for metrics.
var (
	authKinds    = [...]TokenKind{"unknown", KindPAT, KindService, KindLegacyKey, KindSCIM, KindSession}
	authOutcomes = [...]string{"accepted", "refused", "rate_limited", "ip_refused", "unavailable", "error"}
)

// outcome counts one authentication of a token of kind that ended in err (nil: accepted).
func (st *stats) outcome(kind TokenKind, err error) {
	k := 0
	for i, c := range authKinds {
		if c == kind {
			k = i
			break
		}
	}
	o := 0
	switch ErrorCode(err) {
	case "":
	case EUnauthenticated:
		o = 1
	case ERateLimited:
		o = 2
	case EForbidden:
		o = 3
	case EUnavailable:
		o = 4
	default:
		o = 5
	}
	st.outcomes[k][o].Add(1)
}

// AuthOutcome is how many authentications of one kind of token ended one way.
type AuthOutcome struct {
	Kind    string // pat, service, legacy_key, scim, session; unknown when refused before the kind was known
	Outcome string // accepted, refused, rate_limited, ip_refused, unavailable, error
	Count   int64
}

// Stats is a snapshot of the service's counters and gauges.
type Stats struct {
	VerifiedFromCache int64
	VerifiedFromStore int64
	Refused           int64
	// RefusedNeverIssued counts the refusals answered by the filter of issued tokens, without
	// the database; FilterTokens and FilterBytes are its size (zero until it is built).
	RefusedNeverIssued int64
	// FilterWaits counts the misses of the filter that waited for a read of the change feed
	// before being answered: tokens this cluster may have minted an instant ago (tagged with
	// its key, or untagged before the seal). UntaggedSealed is whether this node knows that no
	// node mints untagged tokens any more.
	FilterWaits    int64
	UntaggedSealed bool
	FilterTokens   int64
	FilterBytes    int
	CacheEntries   int
	PendingUses    int
	// FeedSeq is the last change-feed entry this node applied; CachesTrusted whether its
	// caches answer now (false while the feed cannot be read, see Service.Run).
	FeedSeq       int64
	CachesTrusted bool
	// FeedReadAt is when the last successful read of the feed started (zero: none yet, or
	// the Service does not read the feed).
	FeedReadAt time.Time
	// FeedHeard is the newest feed entry another node's wake-up named (0: none, or a single
	// node's store); FeedHeard - FeedSeq, when positive, is how far this node is behind.
	FeedHeard int64
	// SlowHashes counts slow hashes run (old-format tokens and legacy keys).
	SlowHashes int64
	// Authentications counts authentications by kind and outcome (the pairs seen so far).
	Authentications []AuthOutcome
	// WebhookAttempts counts webhook delivery attempts by outcome, in WebhookOutcomes' order.
	WebhookAttempts [len(WebhookOutcomes)]int64
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
	var auths []AuthOutcome
	for k := range s.stats.outcomes {
		for o := range s.stats.outcomes[k] {
			if n := s.stats.outcomes[k][o].Load(); n > 0 {
				auths = append(auths, AuthOutcome{Kind: string(authKinds[k]), Outcome: authOutcomes[o], Count: n})
			}
		}
	}
	var hooks [len(WebhookOutcomes)]int64
	for i := range hooks {
		hooks[i] = s.stats.webhooks[i].Load()
	}
	return Stats{
		WebhookAttempts: hooks,
		Authentications: auths,
		FeedReadAt:      readAt,
		FeedHeard:       s.feedHeard.Load(),
		FilterTokens:    filterTokens, FilterBytes: filterBytes,
		VerifiedFromCache:  s.stats.cached.Load(),
		VerifiedFromStore:  s.stats.stored.Load(),
		Refused:            s.stats.refused.Load(),
		RefusedNeverIssued: s.stats.never.Load(),
		FilterWaits:        s.stats.neverWaits.Load(),
		UntaggedSealed:     s.untaggedSealed.Load(),
		CacheEntries:       s.cache.len(),
		PendingUses:        pending,
		FeedSeq:            s.feedSeq.Load(),
		CachesTrusted:      s.trusted(s.now()),
		SlowHashes:         s.limits.slowHashes.Load(),
	}
}
