package tokend

import (
	"context"
	"sync"
	"time"

	"tokend/perm"
)

// CapabilityUse is how often a token used one capability on one UTC day: (Resource, Access)
// in project ProjectID, or account-wide when ProjectID is zero.
type CapabilityUse struct {
	TokenID   TokenID
	Day       time.Time // midnight UTC
	Resource  perm.Resource
	Access    perm.Access
	ProjectID ProjectID
	Count     int64
}

type capKey struct {
	tokenID   TokenID
	day       int64
	resource  perm.Resource
	access    perm.Access
	projectID ProjectID
}

// capRecorder folds the capabilities tokens use in memory, as usageRecorder folds uses: an
// allowed permission check adds to a count per (token, day, capability, project) and flush
// writes the counts in one batch. A check never writes to the database, and a key seen before
// costs no allocation.
type capRecorder struct {
	now     func() time.Time
	mu      sync.Mutex
	pending map[capKey]int64
}

func newCapRecorder(now func() time.Time) *capRecorder {
	return &capRecorder{now: now, pending: make(map[capKey]int64)}
}

func (c *capRecorder) record(tokenID TokenID, r perm.Resource, a perm.Access, projectID ProjectID) {
	if c == nil || tokenID == 0 {
		return
	}
	k := capKey{tokenID, c.now().Unix() / secondsPerDay, r, a, projectID}
	c.mu.Lock()
	c.pending[k]++
	c.mu.Unlock()
}

// peek returns the counts of a token not yet flushed.
func (c *capRecorder) peek(tokenID TokenID) []CapabilityUse {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []CapabilityUse
	for k, n := range c.pending {
		if k.tokenID == tokenID {
			out = append(out, k.use(n))
		}
	}
	return out
}

func (k capKey) use(n int64) CapabilityUse {
	return CapabilityUse{TokenID: k.tokenID, Day: time.Unix(k.day*secondsPerDay, 0).UTC(),
		Resource: k.resource, Access: k.access, ProjectID: k.projectID, Count: n}
}

// flush writes the pending counts; on failure they are added back.
func (c *capRecorder) flush(ctx context.Context, st Store) error {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return nil
	}
	batch := make([]CapabilityUse, 0, len(c.pending))
	for k, n := range c.pending {
		batch = append(batch, k.use(n))
	}
	clear(c.pending)
	c.mu.Unlock()
	err := st.AddCapabilityUses(ctx, batch)
	if err == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range batch {
		c.pending[capKey{u.TokenID, u.Day.Unix() / secondsPerDay, u.Resource, u.Access, u.ProjectID}] += u.Count
	}
	return err
}
