package httpapi

import (
	"net/http"
	"strings"
	"time"

	"tokend"
	"tokend/edge"
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

// errTwoCredentials answers a request with more than one Authorization header: which one a
// proxy, a gateway and tokend would each read is anyone's guess, so none is.
var errTwoCredentials = &tokend.Error{Code: tokend.EInvalid, Field: "Authorization",
	Message: "Send one Authorization header, not several."}

// authorization returns the request's one Authorization header ("" when there is none).
func authorization(r *http.Request) (string, error) {
	switch v := r.Header.Values("Authorization"); len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", errTwoCredentials
}

// bearer extracts the token of "Authorization: Bearer <t>" or "Authorization: Token <t>".
func bearer(h string) (string, bool) {
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

// authed wraps a handler that needs a principal. The service authenticates (the account's IP
// restrictions and the limit on failures included); the door only reads the header. A SCIM
// token is refused: it is good on the SCIM endpoints only (authedSCIM).
func (s *Server) authed(h handler) http.Handler { return s.authedFor(h, false) }

// refusalYield is how long the answer to a refused token waits while the server is serving
// requests of verified tokens: when one was verified within the last busyWindow. A client
// waits for each answer before it sends again on its connection, so a flood of bad tokens
// then slows itself and leaves the CPU to the valid requests; a client with a wrong token
// loses a millisecond. On a server with no valid traffic a refusal is answered at once.
const (
	refusalYield = time.Millisecond
	busyWindow   = 100 * time.Millisecond
)

// yieldToVerified makes the refusal err wait refusalYield while the server serves verified
// tokens.
func (s *Server) yieldToVerified(err error) {
	if tokend.ErrorCode(err) != tokend.EUnauthenticated {
		return
	}
	if last := s.lastVerified.Load(); last != 0 && s.opts.Now().UnixNano()-last < int64(busyWindow) {
		s.yielded.Inc()
		s.sleep(refusalYield)
	}
}

// noteVerified records that a token was verified now. It writes the shared time at most once
// a millisecond: every request writing it would make the cores of a busy server take turns
// on its cache line.
func (s *Server) noteVerified() {
	now := s.opts.Now().UnixNano()
	if now-s.lastVerified.Load() >= int64(time.Millisecond) {
		s.lastVerified.Store(now)
	}
}

// authedSCIM wraps a SCIM endpoint: the one place a SCIM token is admitted (the service
// admits nothing else there).
func (s *Server) authedSCIM(h handler) http.Handler { return s.authedFor(h, true) }

// errSCIMElsewhere refuses a SCIM token outside the SCIM endpoints.
var errSCIMElsewhere = &tokend.Error{Code: tokend.EForbidden,
	Message: "A SCIM token works only on the account's SCIM endpoints (/api/v3/accounts/{account_id}/scim/v2/…)."}

func (s *Server) authedFor(h handler, scim bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tokenInQuery(r) {
			writeError(w, r, errTokenInQuery)
			return
		}
		hdr, err := authorization(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		raw, present := bearer(hdr)
		if !present {
			writeError(w, r, errNoCredentials)
			return
		}
		p, err := s.svc.Authenticate(r.Context(), raw, requestIP(r))
		if err != nil {
			s.yieldToVerified(err)
			writeError(w, r, err)
			return
		}
		s.noteVerified()
		edge.SetToken(r.Context(), p.TokenUID)
		if p.Kind == tokend.KindSCIM && !scim {
			writeError(w, r, errSCIMElsewhere)
			s.svc.AuditRefused(r.Context(), p, r.Method, r.URL.Path)
			return
		}
		s.serveAs(w, r, p, h)
	})
}

// serveAs runs h for p, with p in the context, and audits a refusal.
func (s *Server) serveAs(w http.ResponseWriter, r *http.Request, p *tokend.Principal, h handler) {
	if p.Kind == tokend.KindLegacyKey {
		s.serveLegacy(w, r, p, h)
		return
	}
	if !p.ExpiresAt.IsZero() {
		w.Header().Set("X-Token-Expires-At", p.ExpiresAt.UTC().Format(timeFormat))
	}
	if r.Body != http.NoBody { // a request without a body (most GETs) has nothing to bound
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	ctx := tokend.NewContext(r.Context(), p)
	if err := h(w, r.WithContext(ctx), p); err != nil {
		writeError(w, r, err)
	}
	if edge.Status(w) == http.StatusForbidden {
		s.svc.AuditRefused(ctx, p, r.Method, r.URL.Path)
	}
}
