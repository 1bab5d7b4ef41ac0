package tokend

import (
	"context"
	"time"

	"tokend/perm"
)

// Introspection is what a gateway learns about a token (RFC 7662 style). Only Active is set
// for a token that is not valid, or that the asking principal may not see.
type Introspection struct {
	Active    bool
	Kind      TokenKind
	UID       string
	AccountID AccountID
	UserID    UserID
	ExpiresAt time.Time
}

// Introspect verifies raw on behalf of caller, a principal that may read API tokens in the
// token's account (a gateway's service token, typically). A token of another account, or one
// the caller may not see, is simply inactive: introspection reveals nothing to the wrong party.
// Legacy keys and SCIM tokens are never active here.
func (s *Service) Introspect(ctx context.Context, caller *Principal, raw, ip string) (*Introspection, error) {
	if caller == nil {
		return nil, ErrInvalidToken
	}
	if caller.AccountID == 0 || !caller.Can(perm.ServiceTokens, perm.Read, 0) {
		return nil, missing(caller, perm.ServiceTokens, perm.Read, 0)
	}
	if raw == "" {
		return nil, Invalidf("token", "Form field \"token\" is required (application/x-www-form-urlencoded).")
	}
	// Look only: the token belongs to someone else, who must not see this in its last use,
	// its activity or its audit log.
	p, _, err := s.authenticate(ctx, raw, ip, false)
	if err != nil {
		if ErrorCode(err) == EUnauthenticated {
			return &Introspection{}, nil
		}
		return nil, err
	}
	// A SCIM token is good on tokend's SCIM endpoints only, never in front of another API.
	if p.Kind == KindLegacyKey || p.Kind == KindSCIM || p.AccountID != caller.AccountID {
		return &Introspection{}, nil
	}
	return &Introspection{Active: true, Kind: p.Kind, UID: p.TokenUID, AccountID: p.AccountID,
		UserID: p.UserID, ExpiresAt: p.ExpiresAt}, nil
}
