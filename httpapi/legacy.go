package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/edge"
)

// deprecatedSince is when user API keys were retired in favour of account-scoped personal
// access tokens (7 February 2024), for the Deprecation header.
var deprecatedSince = time.Date(2024, 2, 7, 0, 0, 0, 0, time.UTC)

// serveLegacy runs h for a legacy user API key inside a migration window: narrowed to the
// path's account (refused where that account's window is closed), with Deprecation and Sunset
// headers, and recorded — without a database write — for the usage report.
func (s *Server) serveLegacy(w http.ResponseWriter, r *http.Request, p *tokend.Principal, h handler) {
	ip := requestIP(r)
	var accountID tokend.AccountID
	if v := r.PathValue("account_id"); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		accountID = tokend.AccountID(id)
	}
	defer func() {
		status := edge.Status(w)
		// A route bound to no account (the account list, whoami) reached every account whose
		// window is open: each account's report shows it.
		reached := []tokend.AccountID{accountID}
		if accountID == 0 && len(p.LegacyAccounts()) > 0 {
			reached = p.LegacyAccounts()
		}
		for _, id := range reached {
			s.svc.RecordLegacyUse(p, id, r.Method, routeOf(r), ip, r.UserAgent(), status)
		}
	}()

	sunset := p.LegacyWindowEnd()
	if accountID != 0 {
		scoped, until, err := s.svc.ForAccount(r.Context(), p, accountID, ip)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p, sunset = scoped, until
	}
	w.Header().Set("Deprecation", "@"+strconv.FormatInt(deprecatedSince.Unix(), 10))
	w.Header().Set("Sunset", sunset.UTC().Format(http.TimeFormat))
	w.Header().Set("Link", `</api/v3/accounts/{account_id}/users/{user_id}/account-apikeys/>; rel="successor-version"`)
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	ctx := tokend.NewContext(r.Context(), p)
	if err := h(w, r.WithContext(ctx), p); err != nil {
		writeError(w, r, err)
	}
}

// routeOf is the canonical pattern of the matched route, "METHOD /path/".
func routeOf(r *http.Request) string {
	pat := strings.TrimSuffix(r.Pattern, "{$}")
	if !strings.HasSuffix(pat, "/") {
		pat += "/"
	}
	return pat
}

// legacyKeyJSON describes a user's legacy API key; key is set only in the answer to a rotation.
type legacyKeyJSON struct {
	ID         int64   `json:"id"`
	UserID     int64   `json:"user_id"`
	UID        string  `json:"uid"`
	State      int     `json:"state"`
	Key        *string `json:"key"`
	Deprecated bool    `json:"deprecated"`
	Message    string  `json:"message"`
	LastUsed   *string `json:"last_used"`
	LastUsedIP *string `json:"last_used_ip"`
	CreatedAt  *string `json:"created_at"`
}

const legacyKeyNotice = "User API keys are deprecated: they work only in accounts whose admin has opened a " +
	"migration window. Create a personal access token per account (Account Settings → API tokens → " +
	"Personal tokens) and use it in their place."

func toLegacyKeyJSON(t *tokend.Token, raw string) legacyKeyJSON {
	out := legacyKeyJSON{ID: int64(t.ID), UserID: int64(t.UserID), UID: t.UID, State: int(t.State), Deprecated: true,
		Message: legacyKeyNotice, LastUsed: jsonTime(t.LastUsedAt), CreatedAt: jsonTime(t.CreatedAt)}
	if raw != "" {
		out.Key = &raw
	}
	if t.LastUsedIP != "" {
		ip := t.LastUsedIP
		out.LastUsedIP = &ip
	}
	return out
}

func (s *Server) getLegacyKey(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, err := pathID[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	t, err := s.svc.LegacyKey(r.Context(), p, userID)
	if err != nil {
		return err
	}
	writeOK(w, toLegacyKeyJSON(t, ""))
	return nil
}

// rotateLegacyKey is POST on the key: a new key, shown this once; the old one stops at once.
func (s *Server) rotateLegacyKey(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	userID, err := pathID[tokend.UserID](r, "user_id")
	if err != nil {
		return err
	}
	t, raw, err := s.svc.RotateLegacyKey(r.Context(), p, userID)
	if err != nil {
		return err
	}
	writeOK(w, toLegacyKeyJSON(t, raw))
	return nil
}

// legacyUseJSON is one place a legacy key is still used, with its replacement.
type legacyUseJSON struct {
	Method     string         `json:"method"`
	Route      string         `json:"route"`
	IP         string         `json:"ip"`
	UserAgent  string         `json:"user_agent"`
	Count      int64          `json:"count"`
	FirstSeen  *string        `json:"first_seen"`
	LastSeen   *string        `json:"last_seen"`
	LastStatus int            `json:"last_status"`
	Suggestion suggestionJSON `json:"suggestion"`
}

type suggestionJSON struct {
	Kind          string  `json:"kind"` // "pat" or "service"
	PermissionSet *string `json:"permission_set"`
	Reason        string  `json:"reason"`
}

type legacyUserJSON struct {
	UserID     int64           `json:"user_id"`
	Email      string          `json:"email"`
	Uses       []legacyUseJSON `json:"uses"`
	Suggestion suggestionJSON  `json:"suggestion"`
}

func toSuggestionJSON(sg tokend.Suggestion) suggestionJSON {
	out := suggestionJSON{Kind: string(sg.Kind), Reason: sg.Reason}
	if sg.PermissionSet != "" {
		set := string(sg.PermissionSet)
		out.PermissionSet = &set
	}
	return out
}

// legacyUsage is tokend's report of every place each user's legacy key is still used in the
// account, with the suggested replacement.
func (s *Server) legacyUsage(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r)
	if err != nil {
		return err
	}
	rep, err := s.svc.LegacyUsage(r.Context(), p, accountID, RouteNeeds(), tokend.LegacyReportFilter{Page: q.page})
	if err != nil {
		return err
	}
	out := LegacyReportJSON(rep)
	writeList(w, out, len(out), rep.Total, q.filters, "-last_seen")
	return nil
}

// LegacyReportJSON renders a usage report; the CLI prints the same shape.
func LegacyReportJSON(rep *tokend.LegacyUsageReport) []legacyUserJSON {
	out := make([]legacyUserJSON, 0, len(rep.Users))
	for _, u := range rep.Users {
		uj := legacyUserJSON{UserID: int64(u.UserID), Email: u.Email, Suggestion: toSuggestionJSON(u.Suggestion),
			Uses: make([]legacyUseJSON, len(u.Uses))}
		for i, use := range u.Uses {
			uj.Uses[i] = legacyUseJSON{Method: use.Method, Route: use.Route, IP: use.IP, UserAgent: use.UserAgent,
				Count: use.Count, FirstSeen: jsonTime(use.FirstSeen), LastSeen: jsonTime(use.LastSeen),
				LastStatus: use.LastStatus, Suggestion: toSuggestionJSON(use.Suggestion)}
		}
		out = append(out, uj)
	}
	return out
}
