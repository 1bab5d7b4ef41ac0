package tokend

import (
	"context"
	"errors"
	"sync"
	"time"
)

// DailyUse is how many requests one token made on one UTC day.
type DailyUse struct {
	TokenID int64
	Day     time.Time // midnight UTC
	Count   int64
}

type dayKey struct {
	tokenID int64
	day     int64 // days since the Unix epoch
}

// usageRecorder folds token uses in memory so that the hot path never writes to the database:
// the latest use of each token and a count per token and day. flush writes both in batches.
type usageRecorder struct {
	mu      sync.Mutex
	pending map[int64]TokenUse
	daily   map[dayKey]int64
}

func newUsageRecorder() *usageRecorder {
	return &usageRecorder{pending: make(map[int64]TokenUse), daily: make(map[dayKey]int64)}
}

const secondsPerDay = 24 * 60 * 60

func (u *usageRecorder) record(tokenID int64, at time.Time, ip string) {
	k := dayKey{tokenID, at.Unix() / secondsPerDay}
	u.mu.Lock()
	u.pending[tokenID] = TokenUse{TokenID: tokenID, At: at, IP: ip}
	u.daily[k]++
	u.mu.Unlock()
}

// peek returns the pending use of a token not yet flushed.
func (u *usageRecorder) peek(tokenID int64) (TokenUse, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	use, ok := u.pending[tokenID]
	return use, ok
}

// peekDaily returns the counts of a token not yet flushed, by day.
func (u *usageRecorder) peekDaily(tokenID int64) map[int64]int64 {
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

// flush writes pending uses. On failure they are put back, unless a newer use arrived meanwhile.
func (u *usageRecorder) flush(ctx context.Context, st Store) error {
	u.mu.Lock()
	if len(u.pending) == 0 && len(u.daily) == 0 {
		u.mu.Unlock()
		return nil
	}
	batch := make([]TokenUse, 0, len(u.pending))
	for _, use := range u.pending {
		batch = append(batch, use)
	}
	days := make([]DailyUse, 0, len(u.daily))
	for k, n := range u.daily {
		days = append(days, DailyUse{TokenID: k.tokenID, Day: time.Unix(k.day*secondsPerDay, 0).UTC(), Count: n})
	}
	clear(u.pending)
	clear(u.daily)
	u.mu.Unlock()

	errUses := st.RecordTokenUses(ctx, batch)
	errDays := st.AddDailyUses(ctx, days)
	if errUses == nil && errDays == nil {
		return nil
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
	return errors.Join(errUses, errDays)
}
