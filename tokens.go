package tokend

import (
	"context"

	"tokend/secret"
)

// issue generates a token string for t (a PAT or service token), stores t with its hash and
// returns the string: the only time it exists outside the caller's hands.
func (s *Service) issue(ctx context.Context, st *txn, t *Token) (string, error) {
	kind := secret.PAT
	switch t.Kind {
	case KindService:
		kind = secret.Service
	case KindSCIM:
		kind = secret.SCIM
	}
	raw, uid, err := secret.Generate(s.rand, kind)
	if err != nil {
		return "", err
	}
	h := secret.Hash(raw)
	t.UID, t.Hash = uid, h[:]
	if err := st.CreateToken(ctx, t); err != nil {
		return "", err
	}
	st.issued = append(st.issued, h)
	// In the feed, so that other nodes add it to their filters before anyone can use it.
	st.invalidate(Invalidation{TokenID: t.ID})
	return raw, nil
}

// RevokeLeaked revokes the token whose string is raw. Holding a token is the proof of the
// right to kill it, so this needs no other credential: it is what a secret scanner or a
// person who found a leaked token calls. Legacy keys are revoked by rotating them instead.
func (s *Service) RevokeLeaked(ctx context.Context, raw, ip, userAgent string) (*Token, error) {
	parsed, err := secret.Parse(raw)
	if err != nil {
		return nil, s.tokenFailed(ip, ErrInvalidToken)
	}
	hash := secret.Hash(raw)
	t, _, err := s.lookup(ctx, raw, hash[:], parsed, ip, true)
	if err != nil {
		return nil, s.tokenFailed(ip, err)
	}
	if t.Kind == KindLegacyKey || t.State != StateActive {
		return nil, s.tokenFailed(ip, ErrInvalidToken)
	}
	err = s.change(ctx, func(st *txn) error {
		t.State = StateDeleted
		t.UpdatedAt = s.now()
		if err := st.UpdateToken(ctx, t); err != nil {
			return err
		}
		st.audit(&AuditEvent{AccountID: t.AccountID, ActorToken: t.UID,
			Action: "token.revoke_leaked", TargetType: string(t.Kind), TargetID: t.ID,
			Detail: map[string]string{"uid": t.UID}, IP: ip, UserAgent: userAgent})
		st.invalidate(Invalidation{TokenID: t.ID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}
