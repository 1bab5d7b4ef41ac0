// Package httpapi serves tokend's JSON API: dbt Cloud's paths and envelope for accounts, users,
// groups, projects and tokens, and tokend's own additions beside them.
package httpapi

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"tokend"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Ready reports whether the node can serve (its store answers); nil means always.
	Ready func(r *http.Request) error
	// TrustProxyHeaders takes the client address from X-Forwarded-For (set it only behind a
	// proxy that overwrites the header).
	TrustProxyHeaders bool
	Version           string
	// Commit and Dirty identify the build: the VCS revision and whether its tree had changes.
	Commit string
	Dirty  bool
	// Now is the clock of the OAuth endpoints' rate limits (time.Now).
	Now func() time.Time
	// OAuthFailures is how many refused requests an address may make at the OAuth endpoints
	// before it is answered 429; one more comes back every second (default 30).
	OAuthFailures int
	// PublicURL is the server's address as browsers reach it (https://tokend.example.com), for
	// the device login's verification_uri; empty: the request's scheme and host.
	PublicURL string
}

// Server is the HTTP API over a Service.
type Server struct {
	svc  *tokend.Service
	log  *slog.Logger
	opts Options
	mux  *http.ServeMux

	// authFailures counts failed authentications per client address; pwFailures counts failed
	// password sign-ins per e-mail and per address.
	authFailures *failureLimiter
	pwFailures   *failureLimiter
	// oauthFailures counts refused requests to the OAuth endpoints per address; deviceCodes
	// counts device logins started per address (each writes a row).
	oauthFailures *failureLimiter
	deviceCodes   *failureLimiter
	// oauthRequests counts every request to the OAuth endpoints per address, refused or not.
	oauthRequests *failureLimiter

	requests requestStats
}

// New returns a Server with every route registered.
func New(svc *tokend.Service, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{svc: svc, log: opts.Logger, opts: opts, mux: http.NewServeMux(),
		authFailures: newFailureLimiter(50, 2*time.Second, 100_000),
		pwFailures:   newFailureLimiter(5, 30*time.Second, 100_000),
		// Ten logins at once from one address, then one a minute.
		deviceCodes: newFailureLimiter(10, time.Minute, 100_000),
		// 120 at once, then ten a second: more than a CI fleet behind one address exchanges or
		// a CLI polls, less than a flood.
		oauthRequests: newFailureLimiter(120, 100*time.Millisecond, 100_000),
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s.opts.Now = opts.Now
	if opts.OAuthFailures <= 0 {
		opts.OAuthFailures = 30
	}
	s.oauthFailures = newFailureLimiter(opts.OAuthFailures, time.Second, 100_000)
	s.routes()
	return s
}

// Handler returns the API with its middleware.
func (s *Server) Handler() http.Handler {
	return s.recoverPanics(s.logRequests(s.mux))
}

// handle registers pattern ("METHOD /path/") for the path with and without its trailing slash,
// so that neither form is answered with a redirect.
func (s *Server) handle(pattern string, h http.Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	trimmed := strings.TrimSuffix(path, "/")
	s.mux.Handle(method+" "+trimmed+"/{$}", h)
	s.mux.Handle(method+" "+trimmed, h)
}

// recoverPanics turns a panic into a 500 in the envelope. The log line has the stack but no
// request headers, so no credential can reach it.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, r, s.log, tokend.Errorf(tokend.EInternal, "panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logRequests logs method, path (never the query string or headers), status and duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		d := time.Since(start)
		s.requests.observe(rec.status, d)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", d))
	})
}

// clientIP is the caller's address, for last-used records and audit events.
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.TrustProxyHeaders {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(first)); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// pathID parses a positive integer path parameter; anything else is a 404, as for a path that
// does not exist.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, tokend.Errorf(tokend.ENotFound, "Not found: %s must be a positive integer.", name)
	}
	return id, nil
}

// requestIP is the address of an authenticated request, as authentication saw it.
func requestIP(r *http.Request) string { return tokend.RequestMetaFrom(r.Context()).IP }

// accountAnd reads a route's account id and one more id parameter, name.
func accountAnd(r *http.Request, name string) (accountID, id int64, err error) {
	if accountID, err = pathID(r, "account_id"); err != nil {
		return 0, 0, err
	}
	id, err = pathID(r, name)
	return accountID, id, err
}
