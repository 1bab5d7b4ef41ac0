package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"tokend"
	"tokend/edge"
	"tokend/throttle"
)

// The OAuth endpoints speak OAuth's own wire format, not dbt's envelope: form-encoded requests,
// bare JSON answers, and RFC 6749 §5.2 errors. Nothing is cached on the way (no-store).

// maxFormBytes bounds an OAuth request: an ID token is a few kilobytes.
const maxOAuthFormBytes = 64 << 10

// oauthError writes an RFC 6749 error answer.
func writeOAuthError(w http.ResponseWriter, status int, e *tokend.OAuthError) {
	if rec, ok := w.(*oauthRecorder); ok {
		rec.code = e.Code
	}
	body := map[string]any{"error": e.Code, "error_description": e.Description}
	if e.Interval > 0 {
		body["interval"] = e.Interval
	}
	writeOAuth(w, status, body)
}

// oauthRecorder notes the status and error code of an OAuth answer.
type oauthRecorder struct {
	http.ResponseWriter
	status int
	code   string
}

func (w *oauthRecorder) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func writeOAuth(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// answerOAuthErr maps an error of the service to its OAuth answer; anything but an
// *OAuthError is the server's problem, logged and answered without detail.
func (s *Server) answerOAuthErr(w http.ResponseWriter, r *http.Request, err error) {
	var oe *tokend.OAuthError
	if errors.As(err, &oe) {
		status := http.StatusBadRequest
		switch oe.Code {
		case tokend.OAuthInvalidClient:
			status = http.StatusUnauthorized
		case tokend.OAuthTemporarilyUnavail:
			status = http.StatusServiceUnavailable
		}
		writeOAuthError(w, status, oe)
		return
	}
	switch tokend.ErrorCode(err) {
	case tokend.EUnavailable:
		writeOAuthError(w, http.StatusServiceUnavailable, &tokend.OAuthError{Code: tokend.OAuthTemporarilyUnavail,
			Description: "The service is busy; try again."})
		return
	case tokend.EInvalid:
		writeOAuthError(w, http.StatusBadRequest, &tokend.OAuthError{Code: tokend.OAuthInvalidRequest, Description: tokend.ErrorMessage(err)})
		return
	}
	s.log.ErrorContext(r.Context(), "oauth request failed", "path", r.URL.Path, "err", err)
	writeOAuth(w, http.StatusInternalServerError, map[string]string{"error": "server_error",
		"error_description": "Internal error."})
}

// oauthForm reads an OAuth request: POST, form-encoded, under the per-address limit, each
// parameter at most once (RFC 6749 §3.2), nothing in the query string. On failure it has
// answered.
func (s *Server) oauthForm(w http.ResponseWriter, r *http.Request) (url.Values, string, bool) {
	ip := requestIP(r)
	if !s.underLimit(w, s.oauthFailures, ip) || !s.underLimit(w, s.oauthRequests, ip) {
		return nil, "", false
	}
	s.oauthRequests.Fail(ip, s.opts.Now())
	bad := func(format string, args ...any) (url.Values, string, bool) {
		s.oauthFailures.Fail(ip, s.opts.Now())
		writeOAuthError(w, http.StatusBadRequest, &tokend.OAuthError{Code: tokend.OAuthInvalidRequest,
			Description: fmt.Sprintf(format, args...)})
		return nil, "", false
	}
	if r.URL.RawQuery != "" {
		return bad("Parameters go in the form-encoded body, not the query string.")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return bad("The request must be form-encoded (Content-Type: application/x-www-form-urlencoded).")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxOAuthFormBytes)
	if err := r.ParseForm(); err != nil {
		return bad("The form could not be read (at most %d bytes).", maxOAuthFormBytes)
	}
	for name, vs := range r.PostForm {
		if len(vs) > 1 {
			return bad("Parameter %q is given more than once.", name)
		}
	}
	return r.PostForm, ip, true
}

// underLimit answers 429 when key has used up l; otherwise it reports true.
func (s *Server) underLimit(w http.ResponseWriter, l *throttle.Failures, key string) bool {
	wait := l.Wait(key, s.opts.Now())
	if wait == 0 {
		return true
	}
	w.Header().Set("Retry-After", edge.Seconds(wait))
	writeOAuthError(w, http.StatusTooManyRequests, &tokend.OAuthError{Code: tokend.OAuthSlowDown,
		Description: "Too many requests from this address; retry after " + edge.Seconds(wait) + " seconds."})
	return false
}

// token is the OAuth token endpoint: the token-exchange grant (RFC 8693) for CI jobs and the
// device_code grant (RFC 8628) for the CLI.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	form, ip, ok := s.oauthForm(w, r)
	if !ok {
		return
	}
	ctx := tokend.WithRequestMeta(r.Context(), tokend.RequestMeta{IP: ip, UserAgent: r.UserAgent()})
	r = r.WithContext(ctx)
	// Refusals count against the address, except the "not yet" of a CLI polling as told to.
	rec := &oauthRecorder{ResponseWriter: w}
	w = rec
	defer func() {
		if rec.status >= 400 && rec.code != tokend.OAuthAuthorizationPending {
			s.oauthFailures.Fail(ip, s.opts.Now())
		}
	}()
	switch gt := form.Get("grant_type"); gt {
	case tokend.GrantTypeTokenExchange:
		s.exchange(w, r, form)
	case tokend.GrantTypeDeviceCode:
		s.pollDevice(w, r, form)
	case "":
		writeOAuthError(w, http.StatusBadRequest, &tokend.OAuthError{Code: tokend.OAuthInvalidRequest, Description: "grant_type is required."})
	default:
		writeOAuthError(w, http.StatusBadRequest, &tokend.OAuthError{Code: tokend.OAuthUnsupportedGrantType,
			Description: "Supported grant types: " + tokend.GrantTypeTokenExchange + " and " + tokend.GrantTypeDeviceCode + "."})
	}
}

func (s *Server) exchange(w http.ResponseWriter, r *http.Request, form url.Values) {
	invalid := func(msg string) {
		writeOAuthError(w, http.StatusBadRequest, &tokend.OAuthError{Code: tokend.OAuthInvalidRequest, Description: msg})
	}
	subject := form.Get("subject_token")
	if subject == "" {
		invalid("subject_token is required: the CI job's OIDC ID token.")
		return
	}
	switch form.Get("subject_token_type") {
	case tokend.TokenTypeJWT, tokend.TokenTypeIDToken:
	case "":
		invalid("subject_token_type is required: " + tokend.TokenTypeJWT + " or " + tokend.TokenTypeIDToken + ".")
		return
	default:
		invalid("subject_token_type must be " + tokend.TokenTypeJWT + " or " + tokend.TokenTypeIDToken + ".")
		return
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != tokend.TokenTypeAccessToken {
		invalid("requested_token_type can only be " + tokend.TokenTypeAccessToken + ".")
		return
	}
	if form.Get("actor_token") != "" || form.Get("actor_token_type") != "" {
		invalid("Delegation (actor_token) is not supported.")
		return
	}
	var accountID int64
	for _, name := range []string{"account_id", "audience"} {
		v := form.Get(name)
		if v == "" {
			continue
		}
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			writeOAuthError(w, http.StatusBadRequest, &tokend.OAuthError{Code: tokend.OAuthInvalidTarget,
				Description: name + " must be the numeric id of the account the token is for."})
			return
		}
		if accountID != 0 && accountID != id {
			invalid("account_id and audience name different accounts.")
			return
		}
		accountID = id
	}
	if accountID == 0 {
		invalid("account_id (or audience) is required: the account the service token is for.")
		return
	}
	t, raw, _, err := s.svc.ExchangeToken(r.Context(), tokend.ExchangeRequest{SubjectToken: subject, AccountID: tokend.AccountID(accountID)})
	if err != nil {
		s.answerOAuthErr(w, r, err)
		return
	}
	writeOAuth(w, http.StatusOK, map[string]any{
		"access_token":      raw,
		"issued_token_type": tokend.TokenTypeAccessToken,
		"token_type":        "Bearer",
		"expires_in":        expiresIn(t.ExpiresAt, s.svc.Now()),
		"account_id":        t.AccountID,
	})
}

// expiresIn is the whole seconds from now to at.
func expiresIn(at, now time.Time) int64 {
	return int64(at.Sub(now).Round(time.Second) / time.Second)
}

// deviceCode is the device authorization endpoint (RFC 8628 §3.1).
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	form, ip, ok := s.oauthForm(w, r)
	if !ok || !s.underLimit(w, s.deviceCodes, ip) {
		return
	}
	s.deviceCodes.Fail(ip, s.opts.Now())
	g, err := s.svc.StartDeviceAuthorization(r.Context(), tokend.DeviceRequest{ClientID: form.Get("client_id"),
		DeviceName: form.Get("device_name"), IP: ip, UserAgent: r.UserAgent()})
	if err != nil {
		s.answerOAuthErr(w, r, err)
		return
	}
	verify := s.publicURL(r) + "/device"
	writeOAuth(w, http.StatusOK, map[string]any{
		"device_code":               g.DeviceCode,
		"user_code":                 g.UserCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + url.QueryEscape(g.UserCode),
		"expires_in":                int(g.ExpiresIn / time.Second),
		"interval":                  int(g.Interval / time.Second),
	})
}

func (s *Server) pollDevice(w http.ResponseWriter, r *http.Request, form url.Values) {
	t, raw, d, err := s.svc.PollDevice(r.Context(), form.Get("client_id"), form.Get("device_code"))
	if err != nil {
		s.answerOAuthErr(w, r, err)
		return
	}
	body := map[string]any{
		"access_token": raw,
		"token_type":   "Bearer",
		"account_id":   d.AccountID,
		"user_id":      d.UserID,
		"token_id":     t.ID,
	}
	if !t.ExpiresAt.IsZero() {
		body["expires_in"] = expiresIn(t.ExpiresAt, s.svc.Now())
	}
	writeOAuth(w, http.StatusOK, body)
}

// publicURL is where browsers reach this server (see edge.Edge.BaseURL).
func (s *Server) publicURL(r *http.Request) string { return s.edge.BaseURL(r) }
