package console_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tokend"
	"tokend/console"
	"tokend/edge"
	"tokend/password"
	"tokend/perm"
	"tokend/sqlite/sqlitetest"
)

const ownerPassword = "correct horse battery staple"

// clock is a settable time for the service and the console.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a console over a real SQLite store and service, served by httptest.
type env struct {
	svc     *tokend.Service
	srv     *httptest.Server
	clock   *clock
	account *tokend.Account
	owner   *tokend.User
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	clk := &clock{t: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := tokend.NewService(st, tokend.Options{Now: clk.now, Logger: quiet,
		PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	res, err := svc.Init(ctx, tokend.InitParams{AccountName: "Spice Harvesting", Plan: perm.PlanEnterprisePlus,
		Email: "paul@example.com", Password: ownerPassword})
	if err != nil {
		t.Fatal(err)
	}
	// The test's client stands for a proxy on loopback that reports each browser's address.
	proxies, err := edge.ParseProxies([]string{"127.0.0.1/32", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	front, err := edge.New(edge.Options{Logger: quiet, TrustedProxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	c := console.New(svc, console.Options{Now: clk.now, Edge: front, Logger: quiet})
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return &env{svc: svc, srv: srv, clock: clk, account: res.Account, owner: res.User}
}

// addUser adds a member with a password and license, through the owner's rights.
func (e *env) addUser(t *testing.T, email string, license perm.License) *tokend.User {
	t.Helper()
	p, err := e.svc.SessionPrincipal(context.Background(), e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := e.svc.AddUser(context.Background(), p, e.account.ID, tokend.AddUserInput{Email: email,
		Password: ownerPassword, License: license})
	if err != nil {
		t.Fatal(err)
	}
	if m == nil {
		t.Fatalf("add %s: got an invitation, want a new user", email)
	}
	return m.User
}

// browser is an HTTP client with a cookie jar that does not follow redirects, posting forms
// the way a browser does (with an Origin header).
type browser struct {
	t      testing.TB
	base   string
	client *http.Client
	ip     string // sent as X-Forwarded-For when set
}

func (e *env) browser(t testing.TB) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: e.srv.URL, client: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, headers map[string]string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
	}
	if b.ip != "" {
		req.Header.Set("X-Forwarded-For", b.ip)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (b *browser) get(path string) response { b.t.Helper(); return b.do("GET", path, nil, nil) }

func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	return b.do("POST", path, form, nil)
}

// postShown posts a form that makes a secret and follows the redirect to the page that shows
// it once; a response that is no such redirect is returned as it is.
func (b *browser) postShown(path string, form url.Values) response {
	b.t.Helper()
	r := b.post(path, form)
	if loc := r.header.Get("Location"); r.status == http.StatusSeeOther && strings.HasPrefix(loc, "/settings/shown-once?") {
		return b.get(loc)
	}
	return r
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token from a page.
func csrf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// signIn signs in through the form and checks that it lands on a page.
func (b *browser) signIn(email, pw string) response {
	b.t.Helper()
	page := b.get("/signin")
	return b.post("/signin", url.Values{"csrf": {csrf(b.t, page.body)}, "email": {email}, "password": {pw}})
}

func (b *browser) mustSignIn(email, pw string) {
	b.t.Helper()
	if r := b.signIn(email, pw); r.status != http.StatusSeeOther {
		b.t.Fatalf("sign in: got %d, want 303\n%s", r.status, r.body)
	}
}

func newJar() (*cookiejar.Jar, error) { return cookiejar.New(nil) }
