package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/client"
	"tokend/httpapi"
	"tokend/password"
	"tokend/perm"
	"tokend/sqlite"
)

const ownerPassword = "a long enough password"

// server is one tokend behind a real HTTP server, on an SQLite file of its own.
type server struct {
	url string
	svc *tokend.Service
}

func newServer(tb testing.TB) *server {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "tokend.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := tokend.NewService(st, tokend.Options{
		Logger:         log,
		PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1},
	})
	srv := httptest.NewServer(httpapi.New(svc, httpapi.Options{Logger: log}).Handler())
	tb.Cleanup(srv.Close)
	return &server{url: srv.URL, svc: svc}
}

// initAccount creates an account, its owner (password ownerPassword) and an owner PAT.
func (s *server) initAccount(tb testing.TB, name, email string) *tokend.InitResult {
	tb.Helper()
	res, err := s.svc.Init(context.Background(), tokend.InitParams{
		AccountName: name, Plan: perm.PlanEnterprise, Email: email, Password: ownerPassword,
	})
	if err != nil {
		tb.Fatalf("init %s: %v", name, err)
	}
	return res
}

func apiError(tb testing.TB, err error) *client.APIError {
	tb.Helper()
	var e *client.APIError
	if !errors.As(err, &e) {
		tb.Fatalf("got error %v (%T), want a *client.APIError", err, err)
	}
	return e
}

func TestWhoami(t *testing.T) {
	s := newServer(t)
	a := s.initAccount(t, "Spice Harvesting", "paul@example.com")
	wrong := "dbtu_" + strings.Repeat("a", 50)

	tests := []struct {
		name     string
		opts     []client.Option
		wantCode int // 0: success
		secret   string
	}{
		{"owner PAT", []client.Option{client.WithToken(a.Token)}, 0, a.Token},
		{"token with surrounding space", []client.Option{client.WithToken(" " + a.Token + "\n")}, 0, a.Token},
		{"wrong token", []client.Option{client.WithToken(wrong)}, 401, wrong},
		{"no credential", nil, 401, ""},
		{"basic auth", []client.Option{client.WithBasicAuth("paul@example.com", ownerPassword)}, 401, ownerPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client.New(s.url, tt.opts...)
			w, err := c.Whoami(context.Background())
			if tt.wantCode != 0 {
				e := apiError(t, err)
				if e.StatusCode != tt.wantCode || !client.IsUnauthorized(err) || client.IsNotFound(err) {
					t.Errorf("got %d (unauthorized %v), want %d", e.StatusCode, client.IsUnauthorized(err), tt.wantCode)
				}
				if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
					t.Errorf("error %q holds the credential", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.User == nil || w.User.ID != int64(a.User.ID) || w.User.Email != "paul@example.com" {
				t.Errorf("got user %+v, want %d paul@example.com", w.User, a.User.ID)
			}
			if w.Token.Kind != "pat" || w.Token.UID != a.TokenUID || w.Token.AccountID != int64(a.Account.ID) {
				t.Errorf("got token %+v, want a pat %s of account %d", w.Token, a.TokenUID, a.Account.ID)
			}
			if len(w.User.Permissions) != 1 || w.User.Permissions[0].AccountID != int64(a.Account.ID) {
				t.Errorf("got permissions %+v, want account %d only", w.User.Permissions, a.Account.ID)
			}
			if w.Account == nil || w.Account.ID != int64(a.Account.ID) {
				t.Errorf("got account %+v, want %d", w.Account, a.Account.ID)
			}
		})
	}
}

func TestAccounts(t *testing.T) {
	s := newServer(t)
	a := s.initAccount(t, "Spice Harvesting", "paul@example.com")
	b := s.initAccount(t, "Guild Navigator", "paul@example.com")
	c := client.New(s.url, client.WithToken(a.Token))
	ctx := context.Background()

	as, err := c.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].ID != int64(a.Account.ID) || as[0].Name != "Spice Harvesting" || as[0].State != client.StateActive {
		t.Errorf("got accounts %+v, want Spice Harvesting only", as)
	}

	tests := []struct {
		name      string
		id        int64
		wantName  string
		wantHTTP  int
		forbidden bool
	}{
		{"own account", int64(a.Account.ID), "Spice Harvesting", 200, false},
		{"another account of the same user", int64(b.Account.ID), "", 403, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Account(ctx, tt.id)
			if tt.wantHTTP != 200 {
				e := apiError(t, err)
				if e.StatusCode != tt.wantHTTP || client.IsForbidden(err) != tt.forbidden || e.UserMessage == "" {
					t.Errorf("got %d %q, want %d with a message", e.StatusCode, e.UserMessage, tt.wantHTTP)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.wantName || got.Plan != "enterprise" || got.CreatedAt.IsZero() || got.Settings == nil {
				t.Errorf("got %+v, want %s on enterprise with a creation time and settings", got, tt.wantName)
			}
		})
	}
}

func TestCreatePATWithPassword(t *testing.T) {
	s := newServer(t)
	a := s.initAccount(t, "Spice Harvesting", "paul@example.com")
	other := s.initAccount(t, "Guild Navigator", "jessica@example.com")
	ctx := context.Background()
	soon := time.Now().Add(48 * time.Hour).Truncate(time.Second)

	tests := []struct {
		name            string
		email, password string
		userID          int64
		req             client.PATRequest
		wantHTTP        int
	}{
		{"right password", "paul@example.com", ownerPassword, int64(a.User.ID), client.PATRequest{Name: "laptop"}, 201},
		{"e-mail in another case, with expiry", "PAUL@example.com", ownerPassword, int64(a.User.ID),
			client.PATRequest{Name: "ci", ExpiresAt: &soon}, 201},
		{"wrong password", "paul@example.com", "not the password", int64(a.User.ID), client.PATRequest{Name: "x"}, 401},
		{"another user's id", "paul@example.com", ownerPassword, int64(other.User.ID), client.PATRequest{Name: "x"}, 401},
		{"unknown e-mail", "nobody@example.com", ownerPassword, int64(a.User.ID), client.PATRequest{Name: "x"}, 401},
		{"no name", "paul@example.com", ownerPassword, int64(a.User.ID), client.PATRequest{}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := client.New(s.url, client.WithBasicAuth(tt.email, tt.password))
			p, err := c.CreatePAT(ctx, int64(a.Account.ID), tt.userID, tt.req)
			if tt.wantHTTP != 201 {
				e := apiError(t, err)
				if e.StatusCode != tt.wantHTTP || e.UserMessage == "" {
					t.Errorf("got %d %q, want %d with a message", e.StatusCode, e.UserMessage, tt.wantHTTP)
				}
				if strings.Contains(err.Error(), tt.password) {
					t.Errorf("error %q holds the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(p.TokenString, "dbtu_") || p.Name != tt.req.Name || p.State != client.StateActive ||
				p.AccountID != int64(a.Account.ID) || p.UserID != int64(a.User.ID) || p.UID == "" {
				t.Errorf("got %+v, want an active PAT %q with its token string", p, tt.req.Name)
			}
			if tt.req.ExpiresAt != nil && !p.ExpiresAt.Equal(*tt.req.ExpiresAt) {
				t.Errorf("got expires_at %v, want %v", p.ExpiresAt, *tt.req.ExpiresAt)
			}
			w, err := client.New(s.url, client.WithToken(p.TokenString)).Whoami(ctx)
			if err != nil || w.Token.UID != p.UID {
				t.Errorf("whoami with the new token: got %+v, %v, want uid %s", w, err, p.UID)
			}
		})
	}
}

func TestPasswordRateLimit(t *testing.T) {
	s := newServer(t)
	a := s.initAccount(t, "Spice Harvesting", "paul@example.com")
	c := client.New(s.url, client.WithBasicAuth("paul@example.com", "not the password"))
	var err error
	for i := 0; i < 20; i++ {
		if _, err = c.CreatePAT(context.Background(), int64(a.Account.ID), int64(a.User.ID), client.PATRequest{Name: "x"}); !client.IsUnauthorized(err) {
			break
		}
	}
	e := apiError(t, err)
	if e.StatusCode != http.StatusTooManyRequests || e.RetryAfter <= 0 {
		t.Errorf("after many wrong passwords: got %d retry after %v, want 429 with a Retry-After", e.StatusCode, e.RetryAfter)
	}
}

func TestPATLifecycle(t *testing.T) {
	s := newServer(t)
	a := s.initAccount(t, "Spice Harvesting", "paul@example.com")
	acct, user := a.Account.ID, a.User.ID
	ctx := context.Background()
	owner := client.New(s.url, client.WithToken(a.Token))

	var created []*client.PAT
	for _, name := range []string{"one", "two", "three"} {
		p, err := owner.CreatePAT(ctx, int64(acct), int64(user), client.PATRequest{Name: name})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		created = append(created, p)
	}

	// Pages of two: the owner PAT and three more make four.
	var all []client.PAT
	o := client.ListOptions{Limit: 2}
	for pages := 0; ; pages++ {
		ps, page, err := owner.ListPATs(ctx, int64(acct), int64(user), o)
		if err != nil {
			t.Fatal(err)
		}
		if page.Limit != 2 || page.TotalCount != 4 || page.Count != len(ps) {
			t.Errorf("page %d: got %+v with %d rows, want limit 2 of 4 in all", pages, page, len(ps))
		}
		for _, p := range ps {
			if p.TokenString != "" {
				t.Errorf("list shows the token string of %d", p.ID)
			}
		}
		all = append(all, ps...)
		var more bool
		if o, more = page.Next(o); !more || pages > 3 {
			break
		}
	}
	if len(all) != 4 {
		t.Errorf("got %d PATs over all pages, want 4", len(all))
	}

	one, two, three := created[0], created[1], created[2]
	tokenOf := func(p *client.PAT) *client.Client { return client.New(s.url, client.WithToken(p.TokenString)) }

	got, err := owner.GetPAT(ctx, int64(acct), int64(user), one.ID)
	if err != nil || got.Name != "one" || got.UID != one.UID || got.TokenString != "" {
		t.Errorf("get: got %+v, %v, want one without its token string", got, err)
	}
	if _, err := owner.GetPAT(ctx, int64(acct), int64(user), 999999); !client.IsNotFound(err) {
		t.Errorf("get of a missing PAT: got %v, want not found", err)
	}

	// Rotation without overlap: the old string stops at once.
	fresh, err := owner.RotatePAT(ctx, int64(acct), int64(user), one.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Name != "one" || fresh.ID == one.ID || !strings.HasPrefix(fresh.TokenString, "dbtu_") {
		t.Errorf("rotate: got %+v, want a new PAT named one with its token string", fresh)
	}
	// Rotation with overlap: both work for a while.
	fresh2, err := owner.RotatePAT(ctx, int64(acct), int64(user), two.ID, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Deletion by the token itself.
	if err := tokenOf(three).DeletePAT(ctx, int64(acct), int64(user), three.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}

	tests := []struct {
		name string
		c    *client.Client
		ok   bool
	}{
		{"rotated without overlap", tokenOf(one), false},
		{"its successor", tokenOf(fresh), true},
		{"rotated with overlap", tokenOf(two), true},
		{"its successor", tokenOf(fresh2), true},
		{"deleted", tokenOf(three), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.Whoami(ctx)
			if tt.ok && err != nil {
				t.Errorf("got %v, want the token to work", err)
			}
			if !tt.ok && !client.IsUnauthorized(err) {
				t.Errorf("got %v, want 401", err)
			}
		})
	}

	if got, err := owner.GetPAT(ctx, int64(acct), int64(user), three.ID); err != nil || got.State != client.StateDeleted {
		t.Errorf("get of a deleted PAT: got %+v, %v, want it with state deleted", got, err)
	}
	deleted, page, err := owner.ListPATs(ctx, int64(acct), int64(user), client.ListOptions{State: client.StateDeleted})
	if err != nil || page.TotalCount != 2 || len(deleted) != 2 {
		t.Errorf("deleted PATs: got %d (total %d), %v, want one and three", len(deleted), page.TotalCount, err)
	}
	if _, err := owner.RotatePAT(ctx, int64(acct), int64(user), two.ID, -time.Second); err == nil {
		t.Errorf("rotate with a negative overlap: got no error")
	}
	if _, err := owner.RotatePAT(ctx, int64(acct), int64(user), fresh2.ID, 8*24*time.Hour); apiError(t, err).StatusCode != 400 {
		t.Errorf("rotate with an eight-day overlap: got %v, want 400", err)
	}
}

// The tests below use small fake servers: they check what the client sends and how it reads
// answers that tokend itself never gives.

func TestRequestCarriesCredentialInHeaderOnly(t *testing.T) {
	const tok = "dbtu_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		fmt.Fprint(w, `{"status":{"code":200,"is_success":true},"data":[],"extra":{"filters":{"limit":5,"offset":10},"pagination":{"count":0,"total_count":10}}}`)
	}))
	defer srv.Close()

	c := client.New(srv.URL+"/prefix/", client.WithToken(tok), client.WithUserAgent("tokend-test/1"))
	_, page, err := c.ListPATs(context.Background(), 1, 2, client.ListOptions{Limit: 5, Offset: 10, State: client.StateActive})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, got, want string
	}{
		{"path", got.URL.Path, "/prefix/api/v3/accounts/1/users/2/account-apikeys/"},
		{"query", got.URL.RawQuery, "limit=5&offset=10&state=1"},
		{"authorization", got.Header.Get("Authorization"), "Bearer " + tok},
		{"user agent", got.Header.Get("User-Agent"), "tokend-test/1"},
		{"page", fmt.Sprintf("%+v", page), "{Limit:5 Offset:10 Count:0 TotalCount:10}"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if strings.Contains(got.URL.String(), tok[5:]) {
		t.Errorf("the token reached the URL %s", got.URL)
	}
}

func TestResponses(t *testing.T) {
	const tok = "dbtu_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
	var leaked bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization") != ""
		fmt.Fprint(w, `{"status":{"code":200,"is_success":true},"data":{}}`)
	}))
	defer elsewhere.Close()

	tests := []struct {
		name    string
		timeout time.Duration // 10s when zero
		handler http.HandlerFunc
		check   func(t *testing.T, err error)
	}{
		{"a proxy's HTML error", 0, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>bad gateway</html>")
		}, func(t *testing.T, err error) {
			if e := apiError(t, err); e.StatusCode != 502 || e.Code != 502 || strings.Contains(err.Error(), "html") {
				t.Errorf("got %+v, want a 502 without the body", e)
			}
		}},
		{"a message echoing the token", 0, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"status":{"code":401,"user_message":"bad %s"},"data":null}`, tok)
		}, func(t *testing.T, err error) {
			if !client.IsUnauthorized(err) || strings.Contains(err.Error(), tok[5:]) {
				t.Errorf("got %v, want a 401 without the token", err)
			}
		}},
		{"a 404 that is not tokend's", 0, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"status":{"code":400,"user_message":"wrong route"},"data":null}`)
		}, func(t *testing.T, err error) {
			if client.IsNotFound(err) {
				t.Errorf("got not found for status.code 400")
			}
		}},
		{"Retry-After in seconds", 0, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"status":{"code":429,"user_message":"slow down"},"data":null}`)
		}, func(t *testing.T, err error) {
			if e := apiError(t, err); e.RetryAfter != 7*time.Second || e.UserMessage != "slow down" {
				t.Errorf("got %+v, want retry after 7s and the message", e)
			}
		}},
		{"a body over the limit", 0, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"status":{"code":200},"data":"`)
			w.Write([]byte(strings.Repeat("x", client.MaxResponseBytes)))
			fmt.Fprint(w, `"}`)
		}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "larger than") {
				t.Errorf("got %v, want an error about the size", err)
			}
		}},
		{"a redirect elsewhere", 0, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/api/v3/whoami/", http.StatusFound)
		}, func(t *testing.T, err error) {
			if e := apiError(t, err); e.StatusCode != http.StatusFound || leaked {
				t.Errorf("got %v (credential forwarded: %v), want a 302 error and nothing sent elsewhere", err, leaked)
			}
		}},
		{"too slow", 300 * time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}, func(t *testing.T, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want the deadline exceeded", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			c := client.New(srv.URL, client.WithToken(tok), client.WithTimeout(timeout))
			_, err := c.Whoami(context.Background())
			tt.check(t, err)
		})
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name, url, token string
	}{
		{"no scheme", "localhost:8080", "x"},
		{"ftp", "ftp://example.com", "x"},
		{"query", "http://example.com/?token=def", "x"},
		{"user info", "http://me:def@example.com/", "x"},
		{"token with a newline inside", "http://127.0.0.1:1", "dbtu_abc\ndef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.New(tt.url, client.WithToken(tt.token)).Whoami(context.Background())
			if err == nil {
				t.Fatal("got no error")
			}
			if strings.Contains(err.Error(), "def") {
				t.Errorf("error %q holds the token", err)
			}
		})
	}
}
