package httpapi

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// failureLimiter counts failures per key (a client address, an e-mail) with a token bucket:
// each failure takes a token, tokens come back at a steady rate, and a key with no token left
// is refused until one has. Keys whose bucket is full carry no state and are swept.
type failureLimiter struct {
	every  rate.Limit
	refill time.Duration
	burst  int
	max    int

	mu        sync.Mutex
	keys      map[string]*rate.Limiter
	lastSweep time.Time
	n         atomic.Int64 // len(keys), read without the lock on the hot path
}

func newFailureLimiter(burst int, refill time.Duration, max int) *failureLimiter {
	return &failureLimiter{every: rate.Every(refill), refill: refill, burst: burst, max: max,
		keys: make(map[string]*rate.Limiter)}
}

// blocked reports whether key has used up its failures, and when to try again.
func (l *failureLimiter) blocked(key string, now time.Time) (time.Duration, bool) {
	if l == nil || l.n.Load() == 0 {
		return 0, false
	}
	l.mu.Lock()
	lim, ok := l.keys[key]
	l.mu.Unlock()
	if !ok {
		return 0, false
	}
	tokens := lim.TokensAt(now)
	if tokens >= 1 {
		return 0, false
	}
	wait := time.Duration((1 - tokens) / float64(l.every) * float64(time.Second))
	return max(wait, time.Second), true
}

// fail records one failure of key.
func (l *failureLimiter) fail(key string, now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		// A sweep walks every key under the lock that every authentication takes (milliseconds
		// at 100,000 keys): at most one per refill interval, or a flood of new addresses would
		// pay a whole walk per failure, and stall every caller behind it.
		if len(l.keys) >= l.max && now.Sub(l.lastSweep) >= l.refill {
			l.sweep(now)
		}
		if len(l.keys) >= l.max {
			return // under a flood of distinct keys, forget rather than grow without bound
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.keys[key] = lim
		l.n.Store(int64(len(l.keys)))
	}
	lim.AllowN(now, 1)
}

// sweep drops keys whose bucket has refilled; the lock is held.
func (l *failureLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
	l.n.Store(int64(len(l.keys)))
}

// retryAfter renders a wait as whole seconds for the Retry-After header.
func retryAfter(d time.Duration) string {
	return itoa(int64(math.Ceil(d.Seconds())))
}
