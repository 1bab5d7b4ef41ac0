// Package httpapi serves tokend's JSON API: dbt Cloud's paths and envelope for accounts, users,
// groups, projects and tokens, and tokend's own additions beside them.
package httpapi

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tokend"
	"tokend/edge"
	"tokend/throttle"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Edge is the front door both the API and the console stand behind: the client address,
	// request ids, the request log (edge.Default when nil).
	Edge *edge.Edge
	// Ready reports whether the node can serve (its store answers); nil means always.
	Ready   func(r *http.Request) error
	Version string
	// Commit and Dirty identify the build: the VCS revision and whether its tree had changes.
	Commit string
	Dirty  bool
	// Now is the clock of the OAuth endpoints' rate limits (time.Now).
	Now func() time.Time
	// OAuthFailures is how many refused requests an address may make at the OAuth endpoints
	// before it is answered 429; one more comes back every second (default 30).
	OAuthFailures int
}

// encodedAccounts and encodedProjects bound the encodings a server keeps (encodedCache): about
// 1.5 kB an account and 1 kB a project, with the value it encodes.
const (
	encodedAccounts = 10_000
	encodedProjects = 50_000
)

// Server is the HTTP API over a Service.
type Server struct {
	svc  *tokend.Service
	log  *slog.Logger
	opts Options
	edge *edge.Edge
	mux  *http.ServeMux

	// oauthFailures counts refused requests to the OAuth endpoints per address; deviceCodes
	// counts device logins started per address (each writes a row).
	oauthFailures *throttle.Failures
	deviceCodes   *throttle.Failures
	// oauthRequests counts every request to the OAuth endpoints per address, refused or not.
	oauthRequests *throttle.Failures

	reg *prometheus.Registry // this server's metrics (metrics.go)

	// accountJSON and projectJSON hold the JSON of accounts and projects served from the
	// Service's caches; bodies are buffers for response bodies built from it (envelope.go).
	accountJSON *encodedCache[tokend.AccountID, tokend.Account]
	projectJSON *encodedCache[tokend.ProjectID, tokend.Project]
	bodies      sync.Pool

	// lastVerified is when (Unix nanoseconds, by opts.Now) a request's token was last
	// verified: refusals yield to verified traffic (yieldToVerified, with sleep: time.Sleep
	// but in tests).
	lastVerified atomic.Int64
	sleep        func(time.Duration)
	yielded      prometheus.Counter
}

// New returns a Server with every route registered.
func New(svc *tokend.Service, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Edge == nil {
		opts.Edge = edge.Default(opts.Logger)
	}
	s := &Server{svc: svc, log: opts.Logger, opts: opts, edge: opts.Edge, mux: http.NewServeMux(),
		// Ten logins at once from one address, then one a minute.
		deviceCodes: throttle.New(10, time.Minute),
		// 120 at once, then ten a second: more than a CI fleet behind one address exchanges or
		// a CLI polls, less than a flood.
		oauthRequests: throttle.New(120, 100*time.Millisecond),
		sleep:         time.Sleep,
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s.opts.Now = opts.Now
	if opts.OAuthFailures <= 0 {
		opts.OAuthFailures = 30
	}
	s.oauthFailures = throttle.New(opts.OAuthFailures, time.Second)
	s.reg = s.newRegistry()
	s.accountJSON = newEncodedCache[tokend.AccountID](encodedAccounts,
		func(a *tokend.Account) any { return toAccountJSON(a) })
	s.projectJSON = newEncodedCache[tokend.ProjectID](encodedProjects,
		func(p *tokend.Project) any { return toProjectJSON(p) })
	s.routes()
	return s
}

// Handler returns the API behind the edge; a panic is answered in the envelope.
func (s *Server) Handler() http.Handler {
	return s.edge.Wrap("api", s.mux, writeError)
}

// handle registers pattern ("METHOD /path/") for the path with and without its trailing slash,
// so that neither form is answered with a redirect.
func (s *Server) handle(pattern string, h http.Handler) {
	method, path, _ := strings.Cut(pattern, " ")
	trimmed := strings.TrimSuffix(path, "/")
	s.mux.Handle(method+" "+trimmed+"/{$}", h)
	s.mux.Handle(method+" "+trimmed, h)
}

// pathID parses a positive integer path parameter as an id of kind ID; anything else is a 404,
// as for a path that does not exist. This is where the wire's plain integers become typed ids.
func pathID[ID ~int64](r *http.Request, name string) (ID, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, tokend.Errorf(tokend.ENotFound, "Not found: %s must be a positive integer.", name)
	}
	return ID(id), nil
}

// requestIP is the client address of the request, as the edge worked it out.
func requestIP(r *http.Request) string { return tokend.RequestMetaFrom(r.Context()).IP }

// accountAnd reads a route's account id and one more id parameter, name.
func accountAnd[ID ~int64](r *http.Request, name string) (accountID tokend.AccountID, id ID, err error) {
	if accountID, err = pathID[tokend.AccountID](r, "account_id"); err != nil {
		return 0, 0, err
	}
	id, err = pathID[ID](r, name)
	return accountID, id, err
}

// typedIDs, plainIDs and typedID convert between the wire's plain integers and typed ids, at
// the edge where a request body or a response is mapped.
func typedIDs[ID ~int64](in []int64) []ID {
	if in == nil {
		return nil
	}
	out := make([]ID, len(in))
	for i, id := range in {
		out[i] = ID(id)
	}
	return out
}

func plainIDs[ID ~int64](in []ID) []int64 {
	out := make([]int64, len(in))
	for i, id := range in {
		out[i] = int64(id)
	}
	return out
}

// typedID converts an optional id; nil stays nil.
func typedID[ID ~int64](p *int64) *ID {
	if p == nil {
		return nil
	}
	id := ID(*p)
	return &id
}
