package tokend

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"tokend/password"
	"tokend/secret"
)

// Options tune a Service. Zero values take the defaults documented on each field.
type Options struct {
	Now    func() time.Time // time.Now
	Rand   io.Reader        // crypto/rand.Reader
	Logger *slog.Logger     // slog.Default()

	CacheSize int           // 100,000 verified tokens; negative turns the cache off
	CacheTTL  time.Duration // 5 minutes; a safety net, invalidation is what keeps it fresh

	// UsageFlushInterval is how often last-used times reach the database (15 s).
	UsageFlushInterval time.Duration

	// SlowHashIterations is PBKDF2's cost for legacy keys and old-format tokens.
	SlowHashIterations int
	// PasswordParams is argon2id's cost for sign-in passwords.
	PasswordParams password.Params

	// IDTokens verifies the ID tokens of token exchanges; nil turns token exchange off.
	IDTokens IDTokenVerifier
	// DevicePollInterval is the device authorization flow's polling interval (5 s).
	DevicePollInterval time.Duration
}

// Service holds every business and permission rule of tokend.
type Service struct {
	store    Store
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	cache    *verifyCache
	usage    *usageRecorder
	legacy   *legacyRecorder
	ip       *ipPolicies
	accounts *accountCache
	stats    stats
	opts     Options

	dummyOnce sync.Once
	dummy     string
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
	if opts.CacheSize == 0 {
		opts.CacheSize = 100_000
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 5 * time.Minute
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
	if opts.PasswordParams == (password.Params{}) {
		opts.PasswordParams = password.Default
	}
	return &Service{
		store:    store,
		now:      opts.Now,
		rand:     opts.Rand,
		log:      opts.Logger,
		cache:    newVerifyCache(opts.CacheSize, opts.CacheTTL),
		usage:    newUsageRecorder(),
		legacy:   newLegacyRecorder(),
		ip:       &ipPolicies{},
		accounts: &accountCache{},
		opts:     opts,
	}
}

// Run does the background work until ctx ends: it flushes token uses and applies invalidations
// published by other nodes. It flushes once more before returning.
func (s *Service) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.watchInvalidations(ctx)
	}()
	tick := time.NewTicker(s.opts.UsageFlushInterval)
	defer tick.Stop()
	lastSweep := s.now()
	for {
		select {
		case <-ctx.Done():
			<-done
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return s.FlushUsage(flushCtx)
		case <-tick.C:
			if err := s.FlushUsage(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("flush token uses", "err", err)
			}
			if now := s.now(); now.Sub(lastSweep) >= time.Hour {
				lastSweep = now
				if _, err := s.store.DeleteExpiredSessions(ctx, now, now.Add(-SessionIdleTimeout)); err != nil && ctx.Err() == nil {
					s.log.Warn("delete expired console sessions", "err", err)
				}
				if err := s.sweepOAuth(ctx, now); err != nil && ctx.Err() == nil {
					s.log.Warn("delete expired device codes and exchanged-token records", "err", err)
				}
			}
		}
	}
}

// FlushUsage writes the token uses and legacy-key uses seen since the last flush.
func (s *Service) FlushUsage(ctx context.Context) error {
	return errors.Join(s.usage.flush(ctx, s.store), s.legacy.flush(ctx, s.store))
}

// watchInvalidations keeps a subscription to other nodes' invalidations. While it is broken
// the cache is off, so that no node serves a credential another node has revoked; it comes back
// on with the subscription's first message (stores send "drop everything" right after they
// start listening, since anything sent before then was missed).
func (s *Service) watchInvalidations(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		first := true
		err := s.store.Subscribe(ctx, func(inv Invalidation) {
			if first {
				first = false
				s.cache.setDisabled(false)
			}
			s.drop(inv)
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		s.cache.setDisabled(true)
		s.ip.invalidate(Invalidation{All: true})
		s.accounts.invalidate(Invalidation{All: true})
		s.log.Warn("invalidation feed broken; verification cache off until it is back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// drop forgets what inv names in every in-memory cache of this node.
func (s *Service) drop(inv Invalidation) {
	s.cache.invalidate(inv)
	s.ip.invalidate(inv)
	s.accounts.invalidate(inv)
}

// invalidate drops cached principals here and tells the other nodes.
func (s *Service) invalidate(ctx context.Context, inv Invalidation) {
	s.drop(inv)
	if err := s.store.Publish(ctx, inv); err != nil {
		// The change is committed; other nodes fall back on the cache TTL. Say so loudly.
		s.log.Error("publish invalidation", "err", err)
	}
}

// Store returns the service's store, for the operator commands that bypass the API.
func (s *Service) Store() Store { return s.store }

// audit appends an event that records no change of state (a refused token, a failed sign-in);
// a failure is logged, never returned, so an audit outage does not turn into an outage of the
// API. Events of a change are written in its transaction (see change).
func (s *Service) audit(ctx context.Context, e *AuditEvent) {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	if err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Error("append audit event", "action", e.Action, "err", err)
	}
}

func isNotFound(err error) bool { return ErrorCode(err) == ENotFound }

// Now is the service's clock, for adapters that report times relative to it (expires_in).
func (s *Service) Now() time.Time { return s.now() }
