package tokend

import (
	"context"
	"crypto/rand"
	"errors"
	"hash/maphash"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"tokend/password"
	"tokend/secret"
)

// Options tune a Service. Zero values take the defaults documented on each field.
type Options struct {
	Now    func() time.Time // time.Now
	Rand   io.Reader        // crypto/rand.Reader
	Logger *slog.Logger     // slog.Default()

	CacheSize int // 100,000 verified tokens; negative turns the cache off
	// CacheTTL bounds how long any cache (tokens, accounts, IP policies) keeps an entry:
	// 5 minutes. A safety net: the change feed is what keeps caches fresh.
	CacheTTL time.Duration

	// FeedPollInterval is how often Run reads the change feed without being woken (1 s): the
	// longest a lost wake-up delays a revocation on this node.
	FeedPollInterval time.Duration
	// FeedStaleAfter is how long caches stay trusted after the start of the last successful
	// read of the feed (3 s). Past it, every verification reads the store.
	FeedStaleAfter time.Duration
	// FeedPollOnly reads the feed on the timer only, without the store's wake-ups (LISTEN
	// does not pass through a PgBouncer in transaction mode).
	FeedPollOnly bool
	// FeedRetention is how long feed entries are kept (1 hour).
	FeedRetention time.Duration

	// UsageFlushInterval is how often last-used times reach the database (15 s).
	UsageFlushInterval time.Duration

	// SlowHashIterations is PBKDF2's cost for legacy keys and old-format tokens.
	SlowHashIterations int
	// PasswordParams is argon2id's cost for sign-in passwords.
	PasswordParams password.Params
	// SlowHashWorkers is how many slow hashes may run at once (half the cores, at least one).
	SlowHashWorkers int
	// SlowHashHook, when set, runs before each slow hash, inside the pool (tests count and hold
	// slow hashes with it).
	SlowHashHook func()

	// IDTokens verifies the ID tokens of token exchanges; nil turns token exchange off.
	IDTokens IDTokenVerifier
	// DevicePollInterval is the device authorization flow's polling interval (5 s).
	DevicePollInterval time.Duration

	// WebhookAllowPrivate lets webhooks reach loopback, private and link-local addresses (and
	// http:// URLs): for tests and private networks.
	WebhookAllowPrivate bool
	// WebhookTimeout bounds one delivery attempt (10 s).
	WebhookTimeout time.Duration
	// WebhookConcurrency is how many deliveries a node makes at once (8).
	WebhookConcurrency int
	// WebhookPollInterval is how often the worker looks for due messages when nothing wakes it
	// (2 s): how soon another node's messages and retries go out.
	WebhookPollInterval time.Duration
	// WebhookRetryFor is how long a message is retried before it fails (24 h).
	WebhookRetryFor time.Duration

	// MaxAuditExport is the most events one audit log export holds (DefaultMaxAuditExport).
	MaxAuditExport int
}

// Service holds every business and permission rule of tokend.
type Service struct {
	store    Store
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	cache    *verifyCache
	usage    *usageRecorder
	capUses  *capRecorder
	legacy   *legacyRecorder
	refusals *refusalRecorder
	// deliveries sends webhook messages (delivery.go).
	deliveries *deliveries
	ip         *byAccount[*ipPolicy]
	accounts   *byAccount[*Account]
	projects   *byAccount[accountProjects]
	limits     *limits
	stats      stats
	opts       Options

	// trustUntil is when, in Unix nanoseconds, this node's caches stop answering unless the
	// change feed is read again (see trusted); feedSeq is the last feed entry applied.
	trustUntil atomic.Int64
	feedSeq    atomic.Int64
	feedReadAt atomic.Int64 // Unix nanoseconds: the start of the last successful read of the feed
	feedHeard  atomic.Int64 // the newest feed entry a wake-up named (0: none yet)

	// known is the filter of issued tokens (filter.go); feedSync lets a request wait for a
	// read of the feed.
	known    knownTokens
	feedSync *feedSync
	// tagKey is the cluster's key for token tags (nil until read); untaggedSealed whether
	// the store says that no node mints untagged tokens (tags.go).
	tagKey         atomic.Pointer[secret.TagKey]
	untaggedSealed atomic.Bool
	tagsWarned     atomic.Bool // a failed read of the key was logged

	dummyOnce sync.Once
	dummy     string

	// addrSeed keys the hash of a principal's last address (see noteAddress).
	addrSeed maphash.Seed
	// rights are the principals' shared permission sets (see rightsPool).
	rights rightsPool
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxAuditExport <= 0 {
		opts.MaxAuditExport = DefaultMaxAuditExport
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = 100_000
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 5 * time.Minute
	}
	if opts.FeedPollInterval <= 0 {
		opts.FeedPollInterval = time.Second
	}
	if opts.FeedStaleAfter <= 0 {
		opts.FeedStaleAfter = 3 * time.Second
	}
	if opts.FeedRetention <= 0 {
		opts.FeedRetention = time.Hour
	}
	if opts.UsageFlushInterval == 0 {
		opts.UsageFlushInterval = 15 * time.Second
	}
	if opts.SlowHashIterations == 0 {
		opts.SlowHashIterations = secret.DefaultIterations
	}
	if opts.DevicePollInterval == 0 {
		opts.DevicePollInterval = 5 * time.Second
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 10 * time.Second
	}
	if opts.WebhookConcurrency <= 0 {
		opts.WebhookConcurrency = 8
	}
	if opts.WebhookPollInterval <= 0 {
		opts.WebhookPollInterval = 2 * time.Second
	}
	if opts.WebhookRetryFor <= 0 {
		opts.WebhookRetryFor = 24 * time.Hour
	}
	if opts.PasswordParams == (password.Params{}) {
		opts.PasswordParams = password.Default
	}
	s := &Service{
		store:      store,
		now:        opts.Now,
		rand:       opts.Rand,
		log:        opts.Logger,
		cache:      newVerifyCache(opts.CacheSize, opts.CacheTTL),
		addrSeed:   maphash.MakeSeed(),
		usage:      newUsageRecorder(),
		capUses:    newCapRecorder(opts.Now),
		legacy:     newLegacyRecorder(),
		refusals:   newRefusalRecorder(),
		deliveries: newDeliveries(opts),
		ip:         &byAccount[*ipPolicy]{ttl: opts.CacheTTL},
		accounts:   &byAccount[*Account]{ttl: opts.CacheTTL},
		projects:   &byAccount[accountProjects]{ttl: opts.CacheTTL},
		limits:     newLimits(opts.SlowHashWorkers),
		opts:       opts,
	}
	// The verified principals' rights record their uses here.
	s.rights.uses = s.capUses
	// Until Run reads the change feed there is no other node to hear from.
	s.trustUntil.Store(math.MaxInt64)
	s.feedSync = newFeedSync()
	return s
}

// firstSweepAfter is how long after Run starts the first hourly sweep (idle tokens, expiry
// notices, expired sessions and device codes, old webhook messages) runs. Each sweep claims
// what it changes, so nodes that start together do each change once.
const firstSweepAfter = time.Minute

// Run does the background work until ctx ends: it reads the change feed (see watchFeed),
// flushes token uses and prunes old feed entries and sessions. It flushes once more before
// returning. Once it starts, caches answer only while the feed is readable.
func (s *Service) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.watchFeed(ctx)
	}()
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		s.runDeliveries(ctx)
	}()
	tick := time.NewTicker(s.opts.UsageFlushInterval)
	defer tick.Stop()
	// The first sweep comes firstSweepAfter the start, then one an hour: a node restarted more
	// often than hourly (deploys, rescheduling) still sweeps, and a node that just started has
	// warmed its caches before it does.
	lastSweep, lastPrune := s.now().Add(firstSweepAfter-time.Hour), time.Time{}
	for {
		select {
		case <-ctx.Done():
			<-done
			<-sent
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return s.FlushUsage(flushCtx)
		case <-tick.C:
			// The flush is not cut short when ctx ends: a write that the database committed but
			// that reported the cancellation would be put back and written again by the last
			// flush, counting the same uses twice.
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := s.FlushUsage(flushCtx); err != nil {
				s.log.Warn("flush token uses", "err", err)
			}
			cancel()
			if now := s.now(); now.Sub(lastPrune) >= time.Minute {
				lastPrune = now
				s.pruneFeed(ctx)
			}
			if now := s.now(); now.Sub(lastSweep) >= time.Hour {
				lastSweep = now
				if _, err := s.store.DeleteExpiredSessions(ctx, now, now.Add(-SessionIdleTimeout)); err != nil && ctx.Err() == nil {
					s.log.Warn("delete expired console sessions", "err", err)
				}
				if _, err := s.DisableInactive(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("disable inactive tokens", "err", err)
				}
				if err := s.sweepOAuth(ctx, now); err != nil && ctx.Err() == nil {
					s.log.Warn("delete expired device codes and exchanged-token records", "err", err)
				}
				if _, err := s.NotifyExpiry(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("notify expiring and expired tokens", "err", err)
				}
				if _, err := s.store.DeleteWebhookMessages(ctx, now.Add(-WebhookLogRetention)); err != nil && ctx.Err() == nil {
					s.log.Warn("delete old webhook messages", "err", err)
				}
			}
		}
	}
}

// FlushUsage writes the token uses, capability uses, legacy-key uses and refusals seen since
// the last flush.
func (s *Service) FlushUsage(ctx context.Context) error {
	n, errUses := s.usage.flush(ctx, s.store)
	var errOverlaps error
	if n > 0 && errUses == nil {
		// A flushed use may be a new token's first: overlaps that waited for it start now.
		errOverlaps = s.startOverlaps(ctx)
	}
	return errors.Join(errUses, errOverlaps, s.capUses.flush(ctx, s.store), s.legacy.flush(ctx, s.store),
		s.refusals.flush(ctx, s.store), s.flushAddresses(ctx))
}

// drop forgets what inv names in every in-memory cache of this node.
func (s *Service) drop(inv Invalidation) {
	s.cache.invalidate(inv)
	s.projects.invalidate(inv)
	if inv.Projects {
		return // the account's projects only
	}
	s.ip.invalidate(inv)
	s.accounts.invalidate(inv)
}

// Store returns the service's store, for the operator commands that bypass the API.
func (s *Service) Store() Store { return s.store }

// Now is the service's clock, for adapters that report times relative to it (expires_in).
func (s *Service) Now() time.Time { return s.now() }
