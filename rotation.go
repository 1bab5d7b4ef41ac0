package tokend

import (
	"context"
	"strconv"
	"time"
)

// MaxFirstUseWait bounds how long a rotated-out token waits for its successor's first use when
// the account starts overlaps at first use: after that the overlap starts anyway, so that a
// successor nobody deploys does not keep the old token alive.
const MaxFirstUseWait = 7 * 24 * time.Hour

// succeed makes fresh the successor of old in a rotation with overlap, under acct's policies:
// linked to old (so the chain can be walked both ways), and, when the account starts overlaps
// at first use, holding the overlap that waits for its first use. Call it before fresh is
// stored.
func succeed(acct *Account, old, fresh *Token, overlap time.Duration) {
	fresh.RotatedFrom = old.ID
	if acct.OverlapFromFirstUse && overlap > 0 {
		fresh.FirstUseOverlap = overlap
	}
}

// rotationEnd is when a token rotated out at now stops working: at once without an overlap
// (zero), after the overlap, or, while the overlap waits for the successor's first use, at the
// latest MaxFirstUseWait and the overlap after the rotation (startOverlaps brings it forward).
func rotationEnd(fresh *Token, overlap time.Duration, now time.Time) time.Time {
	switch {
	case overlap == 0:
		return time.Time{}
	case fresh.FirstUseOverlap > 0:
		return now.Add(MaxFirstUseWait + overlap)
	}
	return now.Add(overlap)
}

// startOverlaps starts the overlaps that waited for a successor's first use, now that the
// batched usage flush has recorded it: the replaced token stops at that first use plus the
// overlap (never later than it would have anyway), audited as token.overlap_started and dropped
// from every node's cache. Each start is claimed (Store.StartOverlap), so that two nodes
// flushing at once start it once.
func (s *Service) startOverlaps(ctx context.Context) error {
	ps, err := s.store.PendingOverlaps(ctx, 500)
	if err != nil {
		return err
	}
	for _, p := range ps {
		err := s.change(ctx, func(st *txn) error {
			started, err := st.StartOverlap(ctx, p.AccountID, p.TokenID)
			if err != nil || !started {
				return err
			}
			old, err := st.Token(ctx, p.AccountID, p.RotatedFrom)
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			end := p.FirstUsedAt.Add(p.Overlap)
			if old.State == StateActive && (old.ExpiresAt.IsZero() || end.Before(old.ExpiresAt)) {
				old.ExpiresAt, old.UpdatedAt = end, s.now()
				if err := st.UpdateToken(ctx, p.AccountID, old); err != nil {
					return err
				}
			}
			e := event(ctx, nil, old.AccountID, "token.overlap_started", string(old.Kind), old.ID)
			e.Detail = map[string]string{"uid": old.UID, "first_use": p.FirstUsedAt.UTC().Format(time.RFC3339),
				"ends_at": old.ExpiresAt.UTC().Format(time.RFC3339)}
			st.audit(e)
			st.invalidate(Invalidation{TokenID: old.ID})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// reused records that t, a rotated-out token, was used after its overlap: token.reused in the
// audit log and, when the account says so, the revocation of its whole rotation chain (the
// live token included) in the same change, each revoked token audited and dropped from every
// node's cache. Two nodes seeing reuses at once revoke each token once. A failure is logged:
// the caller refuses the token either way.
func (s *Service) reused(ctx context.Context, t *Token) {
	acct, err := s.account(ctx, t.AccountID)
	if err != nil {
		s.log.Error("reuse of a rotated token: read the account", "token_uid", t.UID, "err", err)
		return
	}
	err = s.change(ctx, func(st *txn) error {
		e := event(ctx, nil, t.AccountID, "token.reused", string(t.Kind), t.ID)
		e.ActorUserID, e.ActorToken = t.UserID, t.UID
		e.Detail = map[string]string{"uid": t.UID, "reason": "reused"}
		st.audit(e)
		if !acct.ReuseRevokesChain {
			return nil
		}
		revoked, err := st.RevokeRotationChain(ctx, t.AccountID, t.ID, s.now())
		if err != nil {
			return err
		}
		e.Detail["chain_revoked"] = strconv.Itoa(len(revoked))
		for _, r := range revoked {
			re := event(ctx, nil, r.AccountID, revokedAction(r.Kind), string(r.Kind), r.ID)
			re.Detail = map[string]string{"uid": r.UID, "name": r.Name, "reason": "rotation_reuse", "reused_uid": t.UID}
			st.audit(re)
			st.invalidate(Invalidation{TokenID: r.ID})
		}
		return nil
	})
	if err != nil {
		s.log.Error("reuse of a rotated token", "token_uid", t.UID, "err", err)
	}
}
