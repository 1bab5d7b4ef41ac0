package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// contentSecurityPolicy allows nothing but this origin's own files: no inline script or
// style, no framing, forms post only here.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every console response carries. Pages are never cached:
// several show a token once, and the others show an account's data.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses an unsafe request (anything but GET and HEAD) whose Origin, or failing
// that Referer, is not this console: the first line against cross-site forms, before the
// CSRF token is even looked at. A request with neither header is refused too; browsers send
// Origin on every POST.
func (c *Console) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if !c.fromHere(r) {
			c.renderError(w, r, nil, errCrossSite)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fromHere compares the request's Origin (or Referer) with the console's own origin: the
// public URL when one is set, else this request's Host with the scheme the browser used.
func (c *Console) fromHere(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" || src == "null" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" {
		return false
	}
	u, err := url.Parse(src)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Scheme+"://"+u.Host, c.edge.Origin(r))
}

// csrfToken is the anti-forgery token of a session's forms: an HMAC keyed by the session's
// secret, so that it reveals neither the secret nor the session id.
func csrfToken(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("tokend console form"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF compares a submitted token with the session's in constant time.
func validCSRF(secret []byte, got string) bool {
	want := csrfToken(secret)
	return len(got) == len(want) && hmac.Equal([]byte(got), []byte(want))
}
