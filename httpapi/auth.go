package httpapi

import (
	"net/http"
	"strings"
	"time"

	"tokend"
	"tokend/secret"
)

// errNoCredentials answers a request without an Authorization header.
var errNoCredentials = &tokend.Error{Code: tokend.EUnauthenticated,
	Message: "Authentication credentials were not provided. Send \"Authorization: Bearer <token>\"."}

var errTokenInQuery = &tokend.Error{Code: tokend.EInvalid, Field: "query",
	Message: "Tokens are not accepted in the query string; send them in the Authorization header."}

// queryTokenNames are the parameter names clients use to pass a credential in a URL.
var queryTokenNames = []string{"token", "access_token", "api_key", "apikey", "key", "auth", "authorization"}

// tokenInQuery reports whether the URL carries something that looks like a credential. URLs
// end up in logs and browser histories, so such a request is refused outright.
func tokenInQuery(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false
	}
	for name, values := range r.URL.Query() {
		lname := strings.ToLower(name)
		for _, n := range queryTokenNames {
			if lname == n {
				return true
			}
		}
		for _, v := range values {
			if _, err := secret.Parse(v); err == nil {
				return true
			}
		}
	}
	return false
}

// bearer extracts the token of "Authorization: Bearer <t>" or "Authorization: Token <t>".
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Token")) {
		return "", true // present but unusable: answered as an invalid token
	}
	return strings.TrimSpace(tok), true
}

// handler serves an authenticated request; an error it returns is answered in the envelope,
// with the status of its code.
type handler func(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error

// authed wraps a handler that needs a principal. Failed authentications are counted per
// client address; an address over its budget gets 429 before any verification work. A SCIM
// token is refused: it is good on the SCIM endpoints only (authedSCIM).
func (s *Server) authed(h handler) http.Handler { return s.authedFor(h, false) }

// authedSCIM wraps a SCIM endpoint: the one place a SCIM token is admitted (the service
// admits nothing else there).
func (s *Server) authedSCIM(h handler) http.Handler { return s.authedFor(h, true) }

// errSCIMElsewhere refuses a SCIM token outside the SCIM endpoints.
var errSCIMElsewhere = &tokend.Error{Code: tokend.EForbidden,
	Message: "A SCIM token works only on the account's SCIM endpoints (/api/v3/accounts/{account_id}/scim/v2/…)."}

func (s *Server) authedFor(h handler, scim bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tokenInQuery(r) {
			writeError(w, r, s.log, errTokenInQuery)
			return
		}
		raw, present := bearer(r)
		if !present {
			writeError(w, r, s.log, errNoCredentials)
			return
		}
		ip := s.clientIP(r)
		p, ok := s.authenticate(w, r, raw, ip)
		if !ok {
			return
		}
		if p.Kind == tokend.KindSCIM && !scim {
			writeError(w, r, s.log, errSCIMElsewhere)
			s.svc.AuditRefused(r.Context(), p, r.Method, r.URL.Path)
			return
		}
		s.serveAs(w, r, p, ip, h)
	})
}

// authenticate verifies raw under the failure limit; on failure it has answered.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, raw, ip string) (*tokend.Principal, bool) {
	now := time.Now()
	if wait, blocked := s.authFailures.blocked(ip, now); blocked {
		w.Header().Set("Retry-After", retryAfter(wait))
		writeError(w, r, s.log, errTooManyFailures)
		return nil, false
	}
	p, err := s.svc.Authenticate(r.Context(), raw, ip)
	if err != nil {
		if tokend.ErrorCode(err) == tokend.EUnauthenticated {
			s.authFailures.fail(ip, now)
		}
		writeError(w, r, s.log, err)
		return nil, false
	}
	if err := s.svc.CheckIP(r.Context(), p, ip); err != nil {
		writeError(w, r, s.log, err)
		return nil, false
	}
	return p, true
}

// serveAs runs h for p with the request's origin in the context, and audits a refusal.
// ip is the client address authentication used; handlers read it from the request's metadata.
func (s *Server) serveAs(w http.ResponseWriter, r *http.Request, p *tokend.Principal, ip string,
	h handler) {
	if p.Kind == tokend.KindLegacyKey {
		s.serveLegacy(w, r, p, ip, h)
		return
	}
	if !p.ExpiresAt.IsZero() {
		w.Header().Set("X-Token-Expires-At", p.ExpiresAt.UTC().Format(timeFormat))
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	ctx := tokend.WithRequestMeta(tokend.NewContext(r.Context(), p),
		tokend.RequestMeta{IP: ip, UserAgent: r.UserAgent()})
	if err := h(w, r.WithContext(ctx), p); err != nil {
		writeError(w, r, s.log, err)
	}
	if rec, ok := w.(*statusRecorder); ok && rec.status == http.StatusForbidden {
		s.svc.AuditRefused(ctx, p, r.Method, r.URL.Path)
	}
}

var errTooManyFailures = &tokend.Error{Code: tokend.ERateLimited,
	Message: "Too many failed authentication attempts from this address; try again later."}
