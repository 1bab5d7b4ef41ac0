package tokend

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// refusalRecorder folds the 403s of valid tokens in memory, so that a caller hammering a
// forbidden route costs one audit row per token, method and path per flush instead of one
// synchronous insert per request. flush writes the folded events in one transaction.
type refusalRecorder struct {
	mu      sync.Mutex
	pending map[refusalKey]*refusal
}

type refusalKey struct {
	tokenID      TokenID
	method, path string
}

type refusal struct {
	event       AuditEvent // the latest refusal, with its time, address and user agent
	first       time.Time
	count       int64
	uid, method string
	path        string
}

// maxRefusalPlaces bounds the distinct (token, method, path) kept between two flushes; past it,
// a token's further refusals fold into one row of that token with path "(other paths)".
const maxRefusalPlaces = 10_000

func newRefusalRecorder() *refusalRecorder {
	return &refusalRecorder{pending: make(map[refusalKey]*refusal)}
}

func (r *refusalRecorder) record(e *AuditEvent, uid, method, path string) {
	// Written in one batch: one row no store takes would hold back every other.
	path, e.UserAgent = storable(path), storable(e.UserAgent)
	k := refusalKey{TokenID(e.TargetID), method, path}
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.pending[k]
	if f == nil && len(r.pending) >= maxRefusalPlaces {
		k = refusalKey{tokenID: TokenID(e.TargetID), method: "*", path: "(other paths)"}
		method, path = k.method, k.path
		f = r.pending[k]
	}
	if f == nil {
		f = &refusal{first: e.CreatedAt, uid: uid, method: method, path: path}
		r.pending[k] = f
	}
	f.event = *e
	f.count++
}

func (r *refusalRecorder) flush(ctx context.Context, st Store) error {
	r.mu.Lock()
	if len(r.pending) == 0 {
		r.mu.Unlock()
		return nil
	}
	batch := r.pending
	r.pending = make(map[refusalKey]*refusal)
	r.mu.Unlock()

	err := st.Tx(ctx, func(st Store) error {
		for _, f := range batch {
			e := f.event
			e.Detail = map[string]string{"uid": f.uid, "method": f.method, "path": f.path,
				"count": strconv.FormatInt(f.count, 10), "first_at": f.first.UTC().Format(time.RFC3339Nano)}
			if err := st.AppendAudit(ctx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return nil
	}
	// Put them back for the next flush, folded with whatever came meanwhile.
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, f := range batch {
		cur := r.pending[k]
		if cur == nil {
			r.pending[k] = f
			continue
		}
		cur.count += f.count
		if f.first.Before(cur.first) {
			cur.first = f.first
		}
	}
	return err
}
