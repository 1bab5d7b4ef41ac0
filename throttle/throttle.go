// Package throttle is tokend's one failure limiter: a token bucket per key (a client address, an
// address and e-mail, a token uid) that each failure drains and time refills. The Service keeps
// its limits with it (token failures, password guesses, slow hashes) and a door may keep one of
// its own. A leaf: it knows nothing of tokens or HTTP.
package throttle

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// MaxKeys bounds the keys a limiter remembers: under a flood of distinct keys it forgets
// rather than grows.
const MaxKeys = 100_000

// Failures counts failures per key: each failure takes a token, tokens come back one per refill
// interval up to burst, and a key with no token left waits until one has. Keys whose bucket is
// full again carry no state worth keeping and are swept.
type Failures struct {
	every  rate.Limit
	refill time.Duration
	burst  int

	mu        sync.Mutex
	keys      map[string]*rate.Limiter
	lastSweep time.Time
	n         atomic.Int64 // len(keys), read without the lock
}

// New returns a limiter that allows burst failures per key, then one more per refill.
func New(burst int, refill time.Duration) *Failures {
	return &Failures{every: rate.Every(refill), refill: refill, burst: burst, keys: make(map[string]*rate.Limiter)}
}

// Wait reports how long key must wait before its next attempt at now; zero when it need not.
func (l *Failures) Wait(key string, now time.Time) time.Duration {
	if l.n.Load() == 0 {
		return 0
	}
	l.mu.Lock()
	lim, ok := l.keys[key]
	l.mu.Unlock()
	if !ok {
		return 0
	}
	return l.waitOf(lim, now)
}

// waitOf is Wait for the bucket lim.
func (l *Failures) waitOf(lim *rate.Limiter, now time.Time) time.Duration {
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	wait := time.Duration((1 - tokens) / float64(l.every) * float64(time.Second))
	return max(wait, time.Second)
}

// Fail records one failure of key at now and returns Wait after it, taking the lock once.
func (l *Failures) Fail(key string, now time.Time) time.Duration {
	lim := l.fail(key, now)
	if lim == nil {
		return 0
	}
	return l.waitOf(lim, now)
}

// fail records the failure and returns key's bucket; nil when the key is not remembered.
func (l *Failures) fail(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		// A sweep walks every key under the lock: at most one per refill interval, or a flood
		// of new keys would pay a whole walk per failure.
		if len(l.keys) >= MaxKeys && now.Sub(l.lastSweep) >= l.refill {
			l.sweep(now)
		}
		if len(l.keys) >= MaxKeys {
			return nil
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.keys[key] = lim
		l.n.Store(int64(len(l.keys)))
	}
	lim.AllowN(now, 1)
	return lim
}

// sweep drops keys whose bucket has refilled; the lock is held.
func (l *Failures) sweep(now time.Time) {
	l.lastSweep = now
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
	l.n.Store(int64(len(l.keys)))
}
