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
	t, err := s.svc.RevokeLeaked(r.Context(), req.Token, s.clientIP(r), r.UserAgent())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeOK(w, revokeResponse{Revoked: true, Kind: string(t.Kind), UID: t.UID, AccountID: t.AccountID})
}
