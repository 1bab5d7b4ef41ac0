package tokend

import (
	"runtime"
	"sync/atomic"
	"time"

	"tokend/throttle"
)

// What each limit protects (docs/operations.md says the same to operators):
//
//   - Token failures per client address: an address that keeps sending tokens that do not
//     verify is answered 429 instead of 401, and may no longer make tokend do a failure's
//     costly work (a slow hash, an audit row). A token that verifies is never refused: tokens
//     cannot be guessed, so a limit would protect nothing and would let one client behind a
//     shared address (a NAT, a gateway) lock out every other.
//   - Password guesses per address and e-mail together, and per address: a guesser is slowed
//     down; the person whose e-mail it is, signing in from anywhere else, is not. One limit for
//     every way a password is checked (the console's sign-in, HTTP Basic on the API).
//   - Slow hashes (old-format tokens, legacy keys): at most a few at once, by try-acquire, so
//     that verified traffic always has a core; and a budget per token uid and per address, so
//     that wrong secrets for one known uid cannot keep the pool busy.

// The limits.
const (
	tokenFailureBurst, tokenFailureRefill = 50, 2 * time.Second

	guessBurst, guessRefill         = 5, 30 * time.Second // per address and e-mail
	addrGuessBurst, addrGuessRefill = 20, 10 * time.Second

	slowUIDBurst, slowUIDRefill   = 5, 10 * time.Second // wrong secrets per old-format uid
	slowAddrBurst, slowAddrRefill = 10, 5 * time.Second // wrong secrets per address
)

// limits are the Service's limiters.
type limits struct {
	tokenFailures *throttle.Failures
	guesses       *throttle.Failures // keyed by address and e-mail together
	addrGuesses   *throttle.Failures
	slowByUID     *throttle.Failures
	slowByAddr    *throttle.Failures
	slowPool      chan struct{}
	slowHashes    atomic.Int64
}

func newLimits(slowWorkers int) *limits {
	if slowWorkers <= 0 {
		// Half the cores, at least one: the other half serves verified traffic.
		slowWorkers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &limits{
		tokenFailures: throttle.New(tokenFailureBurst, tokenFailureRefill),
		guesses:       throttle.New(guessBurst, guessRefill),
		addrGuesses:   throttle.New(addrGuessBurst, addrGuessRefill),
		slowByUID:     throttle.New(slowUIDBurst, slowUIDRefill),
		slowByAddr:    throttle.New(slowAddrBurst, slowAddrRefill),
		slowPool:      make(chan struct{}, slowWorkers),
	}
}

var errTooManyTokenFailures = Error{Code: ERateLimited,
	Message: "Too many failed authentication attempts from this address; try again later."}

var errTooManyGuesses = Error{Code: ERateLimited,
	Message: "Too many failed sign-ins for this e-mail from this address; try again later."}

var errSlowHashBusy = Error{Code: ERateLimited,
	Message: "Too many old-format tokens are being checked right now; try again shortly, and rotate old-format tokens."}

// limited returns e with the wait to advise.
func limited(e Error, wait time.Duration) *Error {
	e.RetryAfter = wait
	return &e
}

// tokenFailed records a failed token from ip and returns the answer to give: err itself, or a
// 429 once the address has used up its failures.
func (s *Service) tokenFailed(ip string, err error) error {
	if ErrorCode(err) != EUnauthenticated {
		return err
	}
	now := s.now()
	if wait := s.limits.tokenFailures.Fail(ip, now); wait > 0 {
		return limited(errTooManyTokenFailures, wait)
	}
	return err
}

// failuresBlocked reports whether ip has used up its token failures: then a failure's costly
// work (a slow hash, an audit row) is not done for it.
func (s *Service) failuresBlocked(ip string) bool {
	return s.limits.tokenFailures.Wait(ip, s.now()) > 0
}

// guessKey is the key of a password guess: who guesses (the address) at whom (the e-mail).
func guessKey(ip, email string) string { return ip + " " + email }

// checkGuesses refuses a password check for email from ip that is over its budget, before any
// password is looked at.
func (s *Service) checkGuesses(ip, email string) error {
	now := s.now()
	wait := max(s.limits.guesses.Wait(guessKey(ip, email), now), s.limits.addrGuesses.Wait(ip, now))
	if wait > 0 {
		return limited(errTooManyGuesses, wait)
	}
	return nil
}

// guessFailed records a wrong password for email from ip.
func (s *Service) guessFailed(ip, email string) {
	now := s.now()
	s.limits.guesses.Fail(guessKey(ip, email), now)
	s.limits.addrGuesses.Fail(ip, now)
}

// slowHash runs verify, a slow hash for token uid asked from ip, within the slow-hash limits:
// the per-uid and per-address budgets (every wrong secret counts against both), and a slot of
// the pool, taken without waiting.
func (s *Service) slowHash(uid, ip string, verify func() (bool, error)) (bool, error) {
	now := s.now()
	if s.failuresBlocked(ip) {
		return false, limited(errTooManyTokenFailures, s.limits.tokenFailures.Wait(ip, now))
	}
	if wait := max(s.limits.slowByUID.Wait(uid, now), s.limits.slowByAddr.Wait(ip, now)); wait > 0 {
		return false, limited(errSlowHashBusy, wait)
	}
	select {
	case s.limits.slowPool <- struct{}{}:
	default:
		return false, limited(errSlowHashBusy, time.Second)
	}
	defer func() { <-s.limits.slowPool }()
	s.limits.slowHashes.Add(1)
	if s.opts.SlowHashHook != nil {
		s.opts.SlowHashHook()
	}
	ok, err := verify()
	if !ok {
		// Only a wrong secret spends the budgets: a right one is cached (or upgraded) after.
		s.limits.slowByUID.Fail(uid, now)
		s.limits.slowByAddr.Fail(ip, now)
	}
	return ok, err
}
