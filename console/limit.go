package console

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failureLimiter counts failed sign-ins per key (an e-mail, a client address) with a token
// bucket: each failure takes a token, tokens come back at a steady rate, and a key with no
// token left is refused until one has. Keys whose bucket is full again are swept.
type failureLimiter struct {
	every rate.Limit
	burst int
	max   int

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

func newFailureLimiter(burst int, refill time.Duration, max int) *failureLimiter {
	return &failureLimiter{every: rate.Every(refill), burst: burst, max: max, keys: make(map[string]*rate.Limiter)}
}

// blocked reports whether key has used up its failures, and how long until the next try.
func (l *failureLimiter) blocked(key string, now time.Time) (time.Duration, bool) {
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
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.max {
			l.sweep(now)
		}
		if len(l.keys) >= l.max {
			return // under a flood of distinct keys, forget rather than grow without bound
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.keys[key] = lim
	}
	lim.AllowN(now, 1)
}

// sweep drops keys whose bucket has refilled; the lock is held.
func (l *failureLimiter) sweep(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
}
