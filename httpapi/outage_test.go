package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"tokend"
	"tokend/httpapi"
	"tokend/postgres"
	"tokend/postgres/pgtest"
	"tokend/sqlite"
)

// TestStoreOutage cuts the link to PostgreSQL under a running API: what needs the store answers
// 503 in the envelope with Retry-After, /readyz says not ready, and a token the node has cached
// keeps answering what needs nothing else (the cache rules of a node that is not reading the
// change feed; with the feed, see TestFeedOutage in the root package).
func TestStoreOutage(t *testing.T) {
	u := pgtest.SchemaURL(t)
	// The schema is made through the proxy too, so every connection of the pool goes through it.
	proxy, err := pgtest.StartProxy(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	st, err := postgres.Open(context.Background(), proxy.URL(u))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnvOn(t, st)
	ready := httptest.NewServer(httpapi.New(e.svc, httpapi.Options{
		Logger: slog.New(slog.DiscardHandler),
		Ready:  func(r *http.Request) error { return st.Ping(r.Context()) },
	}).Handler())
	t.Cleanup(ready.Close)

	res := e.initAccount("Outage", "owner@outage.example")
	auth := bearer(res.Token)
	projects := fmt.Sprintf("/api/v3/accounts/%d/projects/", res.Account.ID)
	if r := e.do("GET", projects, auth, ""); r.Code != 200 {
		t.Fatalf("before the outage: got %d, want 200: %s", r.Code, r.Raw)
	}
	if r := e.doAt(ready.URL, "GET", "/readyz", "", "", nil); r.Code != 200 {
		t.Fatalf("readyz before the outage: got %d, want 200", r.Code)
	}

	proxy.Close() // every connection is cut and no new one can be made

	for _, tc := range []struct{ name, method, path, body string }{
		// A list by name is read from the store; a plain list is held in memory like the account.
		{"list projects by name", "GET", projects + "?name__icontains=a", ""},
		{"create project", "POST", projects, `{"name":"During the outage"}`},
		{"list tokens", "GET", fmt.Sprintf("/api/v3/accounts/%d/service-tokens/", res.Account.ID), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, auth, tc.body)
			if r.Code != http.StatusServiceUnavailable || r.Body.Status.Code != http.StatusServiceUnavailable {
				t.Fatalf("got %d (envelope %d), want 503: %s\n%s", r.Code, r.Body.Status.Code, r.Raw, e.logs)
			}
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("Retry-After: got %q, want whole seconds", r.Header.Get("Retry-After"))
			}
			if r.Body.Status.UserMessage == tokend.ErrorMessage(fmt.Errorf("x")) {
				t.Errorf("message: got the internal error's, want one that says to try again")
			}
		})
	}
	t.Run("readyz", func(t *testing.T) {
		r := e.doAt(ready.URL, "GET", "/readyz", "", "", nil)
		if r.Code != http.StatusServiceUnavailable {
			t.Fatalf("got %d, want 503: %s", r.Code, r.Raw)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("Retry-After: got none, want one")
		}
	})
	t.Run("cached token", func(t *testing.T) {
		r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/", res.Account.ID), auth, "")
		if r.Code != 200 {
			t.Fatalf("the account, cached, with a cached token: got %d, want 200: %s", r.Code, r.Raw)
		}
		if r := e.do("GET", projects, auth, ""); r.Code != 200 {
			t.Fatalf("the projects list, cached, with a cached token: got %d, want 200: %s", r.Code, r.Raw)
		}
	})
}

// TestSQLiteStoreOutage is TestStoreOutage on SQLite: a store closed under the running server
// answers 503 with Retry-After to everything that needs it, /readyz says not ready, and a cached
// token keeps answering what needs nothing else.
func TestSQLiteStoreOutage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokend.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnvOn(t, st)
	ready := httptest.NewServer(httpapi.New(e.svc, httpapi.Options{
		Logger: slog.New(slog.DiscardHandler),
		Ready:  func(r *http.Request) error { return st.Ping(r.Context()) },
	}).Handler())
	t.Cleanup(ready.Close)

	res := e.initAccount("Outage", "owner@outage.example")
	auth := bearer(res.Token)
	projects := fmt.Sprintf("/api/v3/accounts/%d/projects/", res.Account.ID)
	if r := e.do("GET", projects, auth, ""); r.Code != 200 {
		t.Fatalf("before the outage: got %d, want 200: %s", r.Code, r.Raw)
	}
	if r := e.doAt(ready.URL, "GET", "/readyz", "", "", nil); r.Code != 200 {
		t.Fatalf("readyz before the outage: got %d, want 200", r.Code)
	}
	unavailable := func(t *testing.T, r *response) {
		t.Helper()
		if r.Code != http.StatusServiceUnavailable || r.Body.Status.Code != http.StatusServiceUnavailable {
			t.Fatalf("got %d (envelope %d), want 503: %s\n%s", r.Code, r.Body.Status.Code, r.Raw, e.logs)
		}
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("Retry-After: got %q, want whole seconds", r.Header.Get("Retry-After"))
		}
		if r.Body.Status.UserMessage == tokend.ErrorMessage(fmt.Errorf("x")) {
			t.Errorf("message: got the internal error's, want one that says to try again")
		}
	}

	st.Close()

	for _, tc := range []struct{ name, method, path, body string }{
		// A list by name is read from the store; a plain list is held in memory like the account.
		{"list projects by name", "GET", projects + "?name__icontains=a", ""},
		{"create project", "POST", projects, `{"name":"During the outage"}`},
		{"list tokens", "GET", fmt.Sprintf("/api/v3/accounts/%d/service-tokens/", res.Account.ID), ""},
	} {
		t.Run("closed/"+tc.name, func(t *testing.T) {
			unavailable(t, e.do(tc.method, tc.path, auth, tc.body))
		})
	}
	t.Run("closed/readyz", func(t *testing.T) {
		r := e.doAt(ready.URL, "GET", "/readyz", "", "", nil)
		if r.Code != http.StatusServiceUnavailable {
			t.Fatalf("got %d, want 503: %s", r.Code, r.Raw)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("Retry-After: got none, want one")
		}
	})
	t.Run("closed/cached token", func(t *testing.T) {
		r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/", res.Account.ID), auth, "")
		if r.Code != 200 {
			t.Fatalf("the account, cached, with a cached token: got %d, want 200: %s", r.Code, r.Raw)
		}
		if r := e.do("GET", projects, auth, ""); r.Code != 200 {
			t.Fatalf("the projects list, cached, with a cached token: got %d, want 200: %s", r.Code, r.Raw)
		}
	})
}
