package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"tokend"
	"tokend/edge"
	"tokend/httpapi"
	"tokend/password"
	"tokend/perm"
	"tokend/postgres"
	"tokend/postgres/pgtest"
	"tokend/sqlite/sqlitetest"
)

// env is one tokend behind a real HTTP server, on an SQLite file of its own.
type env struct {
	t     testing.TB
	store tokend.Store
	svc   *tokend.Service
	srv   *httptest.Server
	// proxied is the same API behind an edge that trusts loopback as a proxy (see from).
	proxied *httptest.Server
	logs    *syncBuilder
}

// syncBuilder collects log output written from server goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	return newEnvOn(tb, sqlitetest.Open(tb))
}

// eachStore runs f against tokend on SQLite and on PostgreSQL (where a server answers; in CI
// it must).
func eachStore(t *testing.T, f func(t *testing.T, e *env)) {
	eachStoreWith(t, nil, f)
}

// eachStoreWith is eachStore with the service's options adjusted by mod (when not nil).
func eachStoreWith(t *testing.T, mod func(*tokend.Options), f func(t *testing.T, e *env)) {
	var mods []func(*tokend.Options)
	if mod != nil {
		mods = append(mods, mod)
	}
	t.Run("sqlite", func(t *testing.T) {
		f(t, newEnvOn(t, sqlitetest.Open(t), mods...))
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.SchemaURL(t)
		st, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		pgtest.OffsetIDs(t, url)
		f(t, newEnvOn(t, st, mods...))
	})
}

// newEnvOn starts tokend on st; mods adjust the service's options (a clock, a verifier).
func newEnvOn(tb testing.TB, st tokend.Store, mods ...func(*tokend.Options)) *env {
	e := &env{t: tb, store: st, logs: &syncBuilder{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := tokend.Options{
		Logger:             log,
		PasswordParams:     password.Params{Memory: 64, Time: 1, Threads: 1},
		SlowHashIterations: 1000,
	}
	for _, m := range mods {
		m(&opts)
	}
	e.svc = tokend.NewService(st, opts)
	// The OAuth refusal limit has its own test; the others refuse freely.
	e.srv = httptest.NewServer(httpapi.New(e.svc, httpapi.Options{Logger: log, OAuthFailures: 10_000}).Handler())
	tb.Cleanup(e.srv.Close)
	proxies, err := edge.ParseProxies([]string{"127.0.0.1", "::1"})
	if err != nil {
		tb.Fatal(err)
	}
	front, err := edge.New(edge.Options{Logger: log, TrustedProxies: proxies})
	if err != nil {
		tb.Fatal(err)
	}
	e.proxied = httptest.NewServer(httpapi.New(e.svc, httpapi.Options{Logger: log, Edge: front, OAuthFailures: 10_000}).Handler())
	tb.Cleanup(e.proxied.Close)
	return e
}

// from sends a request to the API behind a trusted proxy on loopback that reports the client
// as xff (an X-Forwarded-For value, as an appending proxy passes it on).
func (e *env) from(xff, method, path, auth, body string) *response {
	e.t.Helper()
	return e.doAt(e.proxied.URL, method, path, auth, body, map[string]string{"X-Forwarded-For": xff})
}

// initAccount creates an Enterprise account and its owner; it returns the owner's PAT.
func (e *env) initAccount(name, email string) *tokend.InitResult {
	e.t.Helper()
	return e.initAccountOn(perm.PlanEnterprise, name, email)
}

// initAccountOn is initAccount on plan.
func (e *env) initAccountOn(plan perm.Plan, name, email string) *tokend.InitResult {
	e.t.Helper()
	res, err := e.svc.Init(context.Background(), tokend.InitParams{
		AccountName: name, Plan: plan, Email: email, Password: "a long enough password",
	})
	if err != nil {
		e.t.Fatalf("init %s: %v", name, err)
	}
	return res
}

type response struct {
	Code   int
	Header http.Header
	Body   struct {
		Status struct {
			Code             int    `json:"code"`
			IsSuccess        bool   `json:"is_success"`
			UserMessage      string `json:"user_message"`
			DeveloperMessage string `json:"developer_message"`
		} `json:"status"`
		Data  json.RawMessage `json:"data"`
		Extra json.RawMessage `json:"extra"`
	}
	Raw []byte
}

// do sends a request with an Authorization header (none when auth is empty) and never follows
// redirects.
func (e *env) do(method, path, auth, body string) *response {
	e.t.Helper()
	return e.doAt(e.srv.URL, method, path, auth, body, nil)
}

// doAt is do against the server at base, with extra request headers.
func (e *env) doAt(base, method, path, auth, body string, headers map[string]string) *response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := &response{Code: resp.StatusCode, Header: resp.Header}
	out.Raw, err = io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
		e.t.Fatalf("%s %s: body is not the JSON envelope: %v\n%s", method, path, err, out.Raw)
	}
	return out
}

func (r *response) data(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body.Data, v); err != nil {
		tb.Fatalf("data: %v\n%s", err, r.Raw)
	}
}

func bearer(tok string) string { return "Bearer " + tok }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
