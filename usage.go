package tokend

import (
	"context"
	"sync"
	"time"
)

// usageRecorder folds token uses in memory so that the hot path never writes to the database;
// flush writes the latest use of each token in one batch.
type usageRecorder struct {
	mu      sync.Mutex
	pending map[int64]TokenUse
}

func newUsageRecorder() *usageRecorder {
	return &usageRecorder{pending: make(map[int64]TokenUse)}
}

func (u *usageRecorder) record(tokenID int64, at time.Time, ip string) {
	u.mu.Lock()
	u.pending[tokenID] = TokenUse{TokenID: tokenID, At: at, IP: ip}
	u.mu.Unlock()
}

// peek returns the pending use of a token not yet flushed.
func (u *usageRecorder) peek(tokenID int64) (TokenUse, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	use, ok := u.pending[tokenID]
	return use, ok
}

// flush writes pending uses. On failure they are put back, unless a newer use arrived meanwhile.
func (u *usageRecorder) flush(ctx context.Context, st Store) error {
	u.mu.Lock()
	if len(u.pending) == 0 {
		u.mu.Unlock()
		return nil
	}
	batch := make([]TokenUse, 0, len(u.pending))
	for _, use := range u.pending {
		batch = append(batch, use)
	}
	clear(u.pending)
	u.mu.Unlock()

	if err := st.RecordTokenUses(ctx, batch); err != nil {
		u.mu.Lock()
		for _, use := range batch {
			if cur, ok := u.pending[use.TokenID]; !ok || cur.At.Before(use.At) {
				u.pending[use.TokenID] = use
			}
		}
		u.mu.Unlock()
		return err
	}
	return nil
}
