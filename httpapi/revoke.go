package httpapi

import (
	"net/http"
	"time"

	"tokend"
)

type revokeRequest struct {
	Token string `json:"token"`
}

type revokeResponse struct {
	Revoked   bool   `json:"revoked"`
	Kind      string `json:"kind"`
	UID       string `json:"uid"`
	AccountID int64  `json:"account_id"`
}

// revokeLeaked is tokend's revocation endpoint for leaked tokens: the body carries the token,
// and possession is the authorization.
func (s *Server) revokeLeaked(w http.ResponseWriter, r *http.Request) {
	if tokenInQuery(r) {
		writeError(w, r, s.log, errTokenInQuery)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var req revokeRequest
	if err := decode(r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Token == "" {
		writeError(w, r, s.log, tokend.Invalidf("token", "Field \"token\" is required."))
		return
	}
	// Anyone may call this, and an old-format token costs a slow hash to check: failures count
	// against the caller's address exactly as failed authentications do.
	ip, now := s.clientIP(r), time.Now()
	if wait, blocked := s.authFailures.blocked(ip, now); blocked {
		w.Header().Set("Retry-After", retryAfter(wait))
		writeError(w, r, s.log, errTooManyFailures)
		return
	}
	t, err := s.svc.RevokeLeaked(r.Context(), req.Token, ip, r.UserAgent())
	if err != nil {
		if tokend.ErrorCode(err) == tokend.EUnauthenticated {
			s.authFailures.fail(ip, now)
		}
		writeError(w, r, s.log, err)
		return
	}
	writeOK(w, revokeResponse{Revoked: true, Kind: string(t.Kind), UID: t.UID, AccountID: t.AccountID})
}
