package httpapi

import (
	"net/http"
	"time"

	"tokend"
)

// Account recovery: tokend's own routes (dbt's API has none).

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword sets the caller's own password; the current one is required, and wrong ones
// count against the user as failed sign-ins do, so that a stolen token cannot be used to guess
// the password. (Keyed by the user alone: callers refused for other reasons never wait.)
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, err := pathID[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	var req changePasswordRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.svc.ChangePassword(r.Context(), p, userID, req.CurrentPassword, req.NewPassword, 0); err != nil {
		return err
	}
	writeOK(w, map[string]any{"user_id": userID, "password_changed": true})
	return nil
}

type passwordResetLinkRequest struct {
	// ExpiresIn is the link's lifetime in seconds (default a day, at most a week).
	ExpiresIn int64 `json:"expires_in"`
}

type passwordResetLinkJSON struct {
	UserID    int64     `json:"user_id"`
	Code      string    `json:"code"`
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createPasswordReset issues a one-time reset link for a member of the account. The answer
// holds the link's code, shown this once: the console page Path (plus the server's address)
// with the code in the fragment, so the code never reaches a server log.
func (s *Server) createPasswordReset(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	var req passwordResetLinkRequest
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	if req.ExpiresIn < 0 {
		return tokend.Invalidf("expires_in", "expires_in must be a positive number of seconds, got %d.", req.ExpiresIn)
	}
	pr, code, err := s.svc.CreatePasswordReset(r.Context(), p, accountID, userID, time.Duration(req.ExpiresIn)*time.Second)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, passwordResetLinkJSON{UserID: int64(userID), Code: code,
		Path: tokend.PasswordResetPath + "#" + code, ExpiresAt: pr.ExpiresAt.UTC()}, nil)
	return nil
}

type resetPasswordRequest struct {
	Code        string `json:"code"`
	NewPassword string `json:"new_password"`
}

// resetPassword redeems a reset link. Anyone may call it: the code is the authorization, and
// wrong codes count against the caller's address as failed authentications do.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var req resetPasswordRequest
	if err := decode(r, &req); err != nil {
		writeError(w, r, err)
		return
	}
	u, err := s.svc.ResetPassword(r.Context(), req.Code, req.NewPassword)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeOK(w, map[string]any{"user_id": u.ID, "email": u.Email, "password_changed": true})
}
