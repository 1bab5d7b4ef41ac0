package tokend

import (
	"context"
	"errors"
	"sync"
	"time"
	"tokend/perm"
)

// DailyUse is how many requests one token made on one UTC day.
type DailyUse struct {
	TokenID TokenID
	Day     time.Time // midnight UTC
	Count   int64
}

type dayKey struct {
	tokenID TokenID
	day     int64 // days since the Unix epoch
}

// usageRecorder folds token uses in memory so that the hot path never writes to the database:
// the latest use of each token, a count per token and day, and the addresses each token of an
// account was used from (for token.new_ip). flush writes the first two in batches;
// Service.flushAddresses takes the addresses.
type usageRecorder struct {
	mu      sync.Mutex
	pending map[TokenID]TokenUse
	daily   map[dayKey]int64
	// addrs are the (token, address) pairs seen since the last flush and not known to be
	// stored; known are pairs this node stored or found stored, so that a token used from the
	// same addresses costs one map lookup per request and no write.
	addrs map[addrKey]TokenAddress
	known map[addrKey]struct{}
}

// addrKey is a token and an address it was used from.
type addrKey struct {
	tokenID TokenID
	ip      string
}

// Bounds of the address maps: past maxPendingAddrs, new pairs wait for the next flush (they
// are seen again when used again); past maxKnownAddrs, the known set starts over.
const (
	maxPendingAddrs = 50_000
	maxKnownAddrs   = 200_000
)

func newUsageRecorder() *usageRecorder {
	return &usageRecorder{pending: make(map[TokenID]TokenUse), daily: make(map[dayKey]int64),
		addrs: make(map[addrKey]TokenAddress), known: make(map[addrKey]struct{})}
}

const secondsPerDay = 24 * 60 * 60

// emptied returns m with nothing in it, for the next flush interval: cleared while small,
// replaced when it held many entries, because Go never shrinks a map's table, so a burst of
// distinct tokens would otherwise keep its memory for as long as the process runs.
func emptied[K comparable, V any](m map[K]V) map[K]V {
	if len(m) > 1024 {
		return make(map[K]V)
	}
	clear(m)
	return m
}

// record notes a use of a token at at from ip.
func (u *usageRecorder) record(tokenID TokenID, at time.Time, ip string) {
	k := dayKey{tokenID, at.Unix() / secondsPerDay}
	u.mu.Lock()
	u.pending[tokenID] = TokenUse{TokenID: tokenID, At: at, IP: ip}
	u.daily[k]++
	u.mu.Unlock()
}

// recordAddress notes that a token of accountID was used from ip at at, for token.new_ip,
// unless the pair is known to be stored or already waits for the flush.
func (u *usageRecorder) recordAddress(tokenID TokenID, accountID AccountID, ip string, at time.Time) {
	a := addrKey{tokenID, ip}
	u.mu.Lock()
	if _, ok := u.known[a]; !ok {
		if _, ok := u.addrs[a]; !ok && len(u.addrs) < maxPendingAddrs {
			u.addrs[a] = TokenAddress{TokenID: tokenID, AccountID: accountID, IP: ip, FirstSeen: at}
		}
	}
	u.mu.Unlock()
}

// takeAddrs returns the pending addresses and forgets them.
func (u *usageRecorder) takeAddrs() []TokenAddress {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.addrs) == 0 {
		return nil
	}
	out := make([]TokenAddress, 0, len(u.addrs))
	for _, a := range u.addrs {
		out = append(out, a)
	}
	u.addrs = emptied(u.addrs)
	return out
}

// settleAddrs marks addresses stored (ok) or puts them back to be tried again.
func (u *usageRecorder) settleAddrs(as []TokenAddress, ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if ok && len(u.known)+len(as) > maxKnownAddrs {
		clear(u.known)
	}
	for _, a := range as {
		k := addrKey{a.TokenID, a.IP}
		if ok {
			u.known[k] = struct{}{}
		} else if _, seen := u.addrs[k]; !seen && len(u.addrs) < maxPendingAddrs {
			u.addrs[k] = a
		}
	}
}

// peek returns the pending use of a token not yet flushed.
func (u *usageRecorder) peek(tokenID TokenID) (TokenUse, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	use, ok := u.pending[tokenID]
	return use, ok
}

// peekDaily returns the counts of a token not yet flushed, by day.
func (u *usageRecorder) peekDaily(tokenID TokenID) map[int64]int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := map[int64]int64{}
	for k, n := range u.daily {
		if k.tokenID == tokenID {
			out[k.day] = n
		}
	}
	return out
}

// flush writes pending uses and returns how many tokens' latest uses it wrote. On failure they
// are put back, unless a newer use arrived meanwhile.
func (u *usageRecorder) flush(ctx context.Context, st Store) (int, error) {
	u.mu.Lock()
	if len(u.pending) == 0 && len(u.daily) == 0 {
		u.mu.Unlock()
		return 0, nil
	}
	batch := make([]TokenUse, 0, len(u.pending))
	for _, use := range u.pending {
		batch = append(batch, use)
	}
	days := make([]DailyUse, 0, len(u.daily))
	for k, n := range u.daily {
		days = append(days, DailyUse{TokenID: k.tokenID, Day: time.Unix(k.day*secondsPerDay, 0).UTC(), Count: n})
	}
	u.pending = emptied(u.pending)
	u.daily = emptied(u.daily)
	u.mu.Unlock()

	errUses := st.RecordTokenUses(ctx, batch)
	errDays := st.AddDailyUses(ctx, days)
	if errUses == nil && errDays == nil {
		return len(batch), nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if errUses != nil {
		for _, use := range batch {
			if cur, ok := u.pending[use.TokenID]; !ok || cur.At.Before(use.At) {
				u.pending[use.TokenID] = use
			}
		}
	}
	if errDays != nil {
		for _, d := range days {
			u.daily[dayKey{d.TokenID, d.Day.Unix() / secondsPerDay}] += d.Count
		}
	}
	if errUses == nil {
		return len(batch), errDays
	}
	return 0, errors.Join(errUses, errDays)
}

// overlayUsage shows uses this node has seen but not yet written, so lists are never staler
// than the flush interval on the node that served the token.
func (s *Service) overlayUsage(ts []*Token) {
	for _, t := range ts {
		if use, ok := s.usage.peek(t.ID); ok && use.At.After(t.LastUsedAt) {
			t.LastUsedAt, t.LastUsedIP = use.At, use.IP
		}
	}
}

// MaxActivityDays bounds an activity chart.
const MaxActivityDays = 366

// TokenActivity returns a token's requests per UTC day for the last days days (today
// included), oldest first, with zero days filled in. A user sees their own tokens; service
// tokens and other users' tokens need read access to API tokens.
func (s *Service) TokenActivity(ctx context.Context, p *Principal, tokenID TokenID, days int) ([]DailyUse, error) {
	if p == nil {
		return nil, ErrInvalidToken
	}
	if days <= 0 || days > MaxActivityDays {
		return nil, Invalidf("days", "\"days\" must be between 1 and %d.", MaxActivityDays)
	}
	// Unscoped: a legacy key has no account; the ownership check below decides.
	t, err := s.store.TokenUnscoped(ctx, tokenID)
	if err != nil {
		return nil, err
	}
	own := p.IsUser() && t.UserID == p.UserID && (t.Kind == KindLegacyKey || t.AccountID == p.AccountID)
	if !own {
		if t.Kind == KindLegacyKey || t.AccountID != p.AccountID {
			return nil, Errorf(ENotFound, "Token %d not found.", tokenID)
		}
		if err := authorize(p, t.AccountID, perm.ServiceTokens, perm.Read, 0); err != nil {
			return nil, err
		}
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(days - 1))
	stored, err := s.store.DailyUses(ctx, tokenID, since)
	if err != nil {
		return nil, err
	}
	counts := make(map[int64]int64, len(stored))
	for _, d := range stored {
		counts[d.Day.Unix()/secondsPerDay] += d.Count
	}
	for day, n := range s.usage.peekDaily(tokenID) {
		counts[day] += n
	}
	out := make([]DailyUse, days)
	for i := range out {
		day := since.AddDate(0, 0, i)
		out[i] = DailyUse{TokenID: tokenID, Day: day, Count: counts[day.Unix()/secondsPerDay]}
	}
	return out, nil
}
