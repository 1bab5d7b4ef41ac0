package httpapi

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	"tokend"
)

// patJSON is dbt's AccountScopedPATResponse. token_string is set only in the answer to a
// create or a rotation; the stored hash is never shown.
type patJSON struct {
	ID                      int64   `json:"id"`
	AccountID               int64   `json:"account_id"`
	UserID                  int64   `json:"user_id"`
	UID                     string  `json:"uid"`
	Name                    string  `json:"name"`
	State                   int     `json:"state"`
	Type                    int     `json:"type"`
	TokenString             *string `json:"token_string"`
	LastUsed                *string `json:"last_used"`
	LastUsedIP              *string `json:"last_used_ip"`
	LastIdentify            *string `json:"last_identify"`
	ExpiresAt               *string `json:"expires_at"`
	MetadataOnly            bool    `json:"metadata_only"`
	WebhooksOnly            bool    `json:"webhooks_only"`
	ServiceTokenPermissions []any   `json:"service_token_permissions"`
	CreatedAt               *string `json:"created_at"`
	UpdatedAt               *string `json:"updated_at"`
	// DisabledAt is set while the token is disabled for inactivity (tokend's own field).
	DisabledAt *string `json:"disabled_at,omitempty"`
}

// patTypeGeneral is dbt's ServiceTokenType for an ordinary account-scoped PAT.
const patTypeGeneral = 2

func toPATJSON(t *tokend.Token, raw string) patJSON {
	out := patJSON{
		ID: int64(t.ID), AccountID: int64(t.AccountID), UserID: int64(t.UserID), UID: t.UID, Name: t.Name, State: int(t.State),
		Type: patTypeGeneral, LastUsed: jsonTime(t.LastUsedAt), ExpiresAt: jsonTime(t.ExpiresAt),
		ServiceTokenPermissions: []any{}, CreatedAt: jsonTime(t.CreatedAt), UpdatedAt: jsonTime(t.UpdatedAt),
		DisabledAt: jsonTime(t.DisabledAt),
	}
	if t.LastUsedIP != "" {
		ip := t.LastUsedIP
		out.LastUsedIP = &ip
	}
	if raw != "" {
		out.TokenString = &raw
	}
	return out
}

type patRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type rotateRequest struct {
	OverlapSeconds int64 `json:"overlap_seconds"`
}

func (s *Server) listPATs(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "state")
	if err != nil {
		return err
	}
	state, err := q.exactState()
	if err != nil {
		return err
	}
	ts, total, err := s.svc.ListPATs(r.Context(), p, accountID, userID, state, tokend.TokenQuery{}, q.page)
	if err != nil {
		return err
	}
	out := make([]patJSON, len(ts))
	for i, t := range ts {
		out[i] = toPATJSON(t, "")
	}
	writeList(w, out, len(out), total, q.filters, "id")
	return nil
}

// createPAT answers a PAT of the same user, or — for a user's first token — HTTP Basic with
// the user's e-mail and password (the service limits guesses and applies the account's IP
// restrictions, as for the console's sign-in).
func (s *Server) createPAT(w http.ResponseWriter, r *http.Request) {
	if tokenInQuery(r) {
		writeError(w, r, errTokenInQuery)
		return
	}
	if _, err := authorization(r); err != nil {
		writeError(w, r, err)
		return
	}
	email, pw, basic := r.BasicAuth()
	if !basic {
		s.authed(s.createPATWithToken).ServeHTTP(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		writeError(w, r, err)
		return
	}
	in, err := decodePATRequest(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	t, raw, err := s.svc.CreatePATWithPassword(r.Context(), accountID, userID, email, pw, in)
	if err != nil {
		if err == tokend.ErrBadCredentials {
			w.Header().Set("WWW-Authenticate", `Basic realm="tokend"`)
		}
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toPATJSON(t, raw), nil)
}

func decodePATRequest(r *http.Request) (tokend.PATInput, error) {
	var req patRequest
	if err := decode(r, &req); err != nil {
		return tokend.PATInput{}, err
	}
	in := tokend.PATInput{Name: req.Name}
	if req.ExpiresAt != nil {
		in.ExpiresAt = *req.ExpiresAt
	}
	return in, nil
}

func (s *Server) createPATWithToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	in, err := decodePATRequest(r)
	if err != nil {
		return err
	}
	t, raw, err := s.svc.CreatePAT(r.Context(), p, accountID, userID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPATJSON(t, raw), nil)
	return nil
}

func (s *Server) getPAT(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.PAT(r.Context(), p, accountID, userID, id)
	if err != nil {
		return err
	}
	writeOK(w, toPATJSON(t, ""))
	return nil
}

// rotatePAT is POST on a PAT's path: a new token_string with the same name and lifetime. An
// optional body {"overlap_seconds": N} keeps the old token working for N more seconds.
func (s *Server) rotatePAT(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	var req rotateRequest
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	if req.OverlapSeconds < 0 || req.OverlapSeconds > int64(tokend.MaxRotationOverlap/time.Second) {
		return tokend.Invalidf("overlap_seconds", "\"overlap_seconds\" must be between 0 and %d.",
			int64(tokend.MaxRotationOverlap/time.Second))
	}
	t, raw, err := s.svc.RotatePAT(r.Context(), p, accountID, userID, id, time.Duration(req.OverlapSeconds)*time.Second)
	if err != nil {
		return err
	}
	writeOK(w, toPATJSON(t, raw))
	return nil
}

func (s *Server) deletePAT(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, userID, err := accountAnd[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeletePAT(r.Context(), p, accountID, userID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tokenInventory is tokend's admin view of every token of an account, with filters:
// kind (pat, service), user_id, state, last_used_before, last_used_after, expires_before, and
// federated (true: only tokens minted by a token exchange).
func (s *Server) tokenInventory(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	lq, err := readList(r, append([]string{"kind", "user_id", "state", "last_used_before", "last_used_after", "expires_before"},
		tokend.TokenQueryParams...)...)
	if err != nil {
		return err
	}
	page := lq.page
	q := r.URL.Query()
	f := tokend.TokenFilter{AccountID: accountID, Kind: tokend.TokenKind(q.Get("kind")), Page: page}
	if f.Kind == "" {
		f.Kind = tokend.KindPAT
	}
	if v := q.Get("user_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return tokend.Invalidf("user_id", "\"user_id\" must be a positive integer, got %q.", v)
		}
		f.UserID = tokend.UserID(id)
	}
	if f.State, err = parseState(r); err != nil {
		return err
	}
	// Search, filters and order are read as the console reads them.
	tq, err := tokend.ParseTokenQuery(q, "id")
	if err != nil {
		return err
	}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"last_used_before", &f.LastUsedBefore}, {"last_used_after", &f.LastUsedAfter}, {"expires_before", &f.ExpiresBefore}} {
		if *tf.dst, err = parseTime(r, tf.name); err != nil {
			return err
		}
	}
	ts, total, err := s.svc.TokenInventory(r.Context(), p, f, tq)
	if err != nil {
		return err
	}
	out := make([]any, len(ts))
	for i, t := range ts {
		if t.Kind == tokend.KindService {
			out[i] = toServiceTokenJSON(t, "")
		} else {
			out[i] = toPATJSON(t, "")
		}
	}
	filters := pageFilters(page)
	for _, k := range []string{"kind", "user_id", "state", "last_used_before", "last_used_after", "expires_before"} {
		if v := q.Get(k); v != "" {
			filters[k] = v
		}
	}
	applied := tq.Params()
	orderBy := cmp.Or(applied.Get("order_by"), "id")
	applied.Del("order_by")
	for k := range applied {
		filters[k] = applied.Get(k)
	}
	filters["kind"] = string(f.Kind)
	writeList(w, out, len(out), total, filters, orderBy)
	return nil
}

type bulkRevokeRequest struct {
	TokenIDs []int64 `json:"token_ids"`
}

// revokeTokens is tokend's bulk revoke for administrators.
func (s *Server) revokeTokens(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req bulkRevokeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	revoked, err := s.svc.RevokeTokens(r.Context(), p, accountID, typedIDs[tokend.TokenID](req.TokenIDs))
	if err != nil {
		return err
	}
	out := make([]patJSON, len(revoked))
	for i, t := range revoked {
		out[i] = toPATJSON(t, "")
	}
	writeList(w, out, len(out), len(out), map[string]any{}, "id")
	return nil
}

// enableToken enables a token disabled for inactivity; its inactivity clock restarts.
func (s *Server) enableToken(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	if err := p.InAccount(accountID); err != nil {
		return err
	}
	t, err := s.svc.EnableToken(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	if t.Kind == tokend.KindService {
		writeOK(w, toServiceTokenJSON(t, ""))
		return nil
	}
	writeOK(w, toPATJSON(t, ""))
	return nil
}

type activityJSON struct {
	Day   string `json:"day"`
	Count int64  `json:"count"`
}

// tokenActivity is tokend's per-day request count of one token: a user's own, or any token
// of the account for those who may read API tokens.
func (s *Server) tokenActivity(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	id, err := pathID[tokend.TokenID](r, "id")
	if err != nil {
		return err
	}
	if err := p.InAccount(accountID); err != nil {
		return err
	}
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil {
			return tokend.Invalidf("days", "\"days\" must be an integer, got %q.", v)
		}
	}
	uses, err := s.svc.TokenActivity(r.Context(), p, id, days)
	if err != nil {
		return err
	}
	out := make([]activityJSON, len(uses))
	for i, u := range uses {
		out[i] = activityJSON{Day: u.Day.Format(time.DateOnly), Count: u.Count}
	}
	writeList(w, out, len(out), len(out), map[string]any{"days": days}, "day")
	return nil
}
