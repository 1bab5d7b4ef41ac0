package httpapi

import (
	"net/http"

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
		writeError(w, r, errTokenInQuery)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var req revokeRequest
	if err := decode(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	if req.Token == "" {
		writeError(w, r, tokend.Invalidf("token", "Field \"token\" is required."))
		return
	}
	// Anyone may call this: the service counts failures against the caller's address exactly
	// as failed authentications, and never refuses a token that verifies.
	t, err := s.svc.RevokeLeaked(r.Context(), req.Token, requestIP(r), r.UserAgent())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOK(w, revokeResponse{Revoked: true, Kind: string(t.Kind), UID: t.UID, AccountID: int64(t.AccountID)})
}
