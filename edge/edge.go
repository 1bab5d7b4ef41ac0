// Package edge is what tokend's two front doors, the JSON API and the web console, share at the
// point where a request arrives: the client address (behind trusted proxies only), the request
// id, recovery from panics, the request log, and the one table from a domain error code to an
// HTTP status. Each door keeps only what is its own: the API its JSON envelope, the console its
// pages. Policy (who may, how often) is the Service's.
package edge

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"tokend"
)

// Options configure an Edge.
type Options struct {
	Logger *slog.Logger
	// TrustedProxies are the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed.
	TrustedProxies Proxies
	// PublicURL is the address people use to reach tokend (https://tokend.example.com), for the
	// console's same-origin check behind a proxy; empty: the request's Host and scheme.
	PublicURL string
	// Tracer, when set, gives every request a span (see trace.go); nil traces nothing.
	Tracer trace.Tracer
}

// Edge wraps a front door. One Edge serves both doors, so they agree on every request's
// client address and id.
type Edge struct {
	log          *slog.Logger
	proxies      Proxies
	publicOrigin string
	publicBase   string
	publicSecure bool

	idPrefix string
	seq      atomic.Uint64

	durations *durations
	tracer    trace.Tracer
}

// Collector returns the edge's request metrics (durations by route pattern and status), for a
// server's registry.
func (e *Edge) Collector() prometheus.Collector { return e.durations.vec }

// New returns an Edge, or an error naming the option at fault.
func New(opts Options) (*Edge, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	origin, base, secure, err := parsePublicURL(opts.PublicURL)
	if err != nil {
		return nil, err
	}
	// Request ids are a random per-process prefix and a counter: unique across nodes and
	// restarts, and no read of crypto/rand per request.
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return &Edge{log: opts.Logger, proxies: opts.TrustedProxies, publicOrigin: origin, publicBase: base, publicSecure: secure,
		idPrefix:  base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b),
		durations: newDurations(), tracer: opts.Tracer}, nil
}

// Default is an Edge that trusts no proxy, for tests and tools.
func Default(log *slog.Logger) *Edge {
	e, err := New(Options{Logger: log})
	if err != nil {
		panic(err)
	}
	return e
}

// request is what the edge knows of one request; the door adds the token it verified.
type request struct {
	client   Client
	tokenUID string
	err      error // an internal error answered as a 500, for the log line
}

type requestKey struct{}

// ClientFrom returns the client of the request ctx belongs to (zero outside the edge).
func ClientFrom(ctx context.Context) Client {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		return rq.client
	}
	return Client{}
}

// SetToken names the token (by uid, never the token itself) that authenticated the request,
// for its log line.
func SetToken(ctx context.Context, uid string) {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		rq.tokenUID = uid
	}
}

// Answer answers err in the door's own format (the API's envelope, the console's page).
type Answer func(w http.ResponseWriter, r *http.Request, err error)

// Wrap returns door behind the edge: the client and request id go into the context (and the
// client address into tokend's request metadata, for audit events), a panic is answered by
// answer as an internal error, and every request gets one log line.
func (e *Edge) Wrap(door string, next http.Handler, answer Answer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rq := &request{client: e.clientOf(r)}
		ctx := context.WithValue(r.Context(), requestKey{}, rq)
		ctx = tokend.WithRequestMeta(ctx, tokend.RequestMeta{IP: rq.client.IP, UserAgent: r.UserAgent()})
		var span trace.Span
		if e.tracer != nil {
			ctx, span = e.startSpan(ctx, r)
		}
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", rq.client.RequestID)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					// A response cut short on purpose (an export whose store failed midway)
					// still gets its log line, with the error noted.
					e.logRequest(r, door, rq, rec.status, time.Since(start))
					if span != nil {
						endSpan(span, r, door, rec.status)
					}
					panic(v)
				}
				// The stack, but no request headers or body: no credential can reach the log.
				e.log.Error("panic", "door", door, "request_id", rq.client.RequestID, "method", r.Method,
					"route", r.Pattern, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !rec.wrote {
					answer(rec, r, tokend.Errorf(tokend.EInternal, "panic"))
				}
			}
			e.logRequest(r, door, rq, rec.status, time.Since(start))
			if span != nil {
				endSpan(span, r, door, rec.status)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// clientOf works out the client of r and names the request.
func (e *Edge) clientOf(r *http.Request) Client {
	addr, secure := e.proxies.client(r)
	c := Client{Addr: addr, Secure: secure || e.publicSecure,
		RequestID: e.idPrefix + "-" + strconv.FormatUint(e.seq.Add(1), 36)}
	if addr.IsValid() {
		c.IP = addr.String()
	}
	return c
}

// logRequest writes the request's line: its id, the client address, the token's uid (never the
// token), the route pattern (never the query string), the status and how long it took.
func (e *Edge) logRequest(r *http.Request, door string, rq *request, status int, d time.Duration) {
	e.durations.observe(r.Pattern, status, d)
	// Room for the optional attributes too, so that adding them does not move the slice to
	// the heap: an authenticated request's line (token_uid) allocated once more than /healthz's.
	attrs := append(make([]slog.Attr, 0, 10),
		slog.String("door", door), slog.String("request_id", rq.client.RequestID),
		slog.String("client", rq.client.IP), slog.String("method", r.Method),
		slog.String("route", r.Pattern), slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
	)
	if rq.tokenUID != "" {
		attrs = append(attrs, slog.String("token_uid", rq.tokenUID))
	}
	if e.tracer != nil {
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
		}
	}
	level := slog.LevelInfo
	if rq.err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("err", rq.err.Error()))
	}
	e.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// recorder keeps the status a door answered with.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status returns the status a door has answered with so far (200 when it has not said).
func Status(w http.ResponseWriter) int {
	for {
		switch v := w.(type) {
		case *recorder:
			return v.status
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return http.StatusOK
		}
	}
}
