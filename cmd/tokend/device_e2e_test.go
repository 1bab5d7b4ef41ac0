package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"tokend"
)

// deviceLogin is `tokend login --url` running: the real binary, waiting for approval.
type deviceLogin struct {
	cmd      *exec.Cmd
	userCode string
	link     string // verification_uri_complete
	stdout   *syncBuffer
	stderr   *syncBuffer
	done     chan error
}

var (
	userCodeRE = regexp.MustCompile(`enter the code ([A-Z]{4}-[A-Z]{4})`)
	linkRE     = regexp.MustCompile(`\(or open (\S+)\)`)
)

// startDeviceLogin runs `tokend login --url base` and returns once it has shown its code.
func startDeviceLogin(t *testing.T, base string, env []string) *deviceLogin {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, "login", "--url", base, "--no-browser")
	cmd.Env = append(cleanEnv(), env...)
	l := &deviceLogin{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = l.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { l.done <- cmd.Wait(); pw.Close() }()
	shown := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			l.stderr.Write([]byte(line + "\n"))
			if m := userCodeRE.FindStringSubmatch(line); m != nil {
				l.userCode = m[1]
			}
			if m := linkRE.FindStringSubmatch(line); m != nil {
				l.link = m[1]
				close(shown)
			}
		}
	}()
	select {
	case <-shown:
	case err := <-l.done:
		t.Fatalf("tokend login ended before showing a code: %v\n%s", err, l.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("tokend login showed no code within 30 s:\n%s", l.stderr.String())
	}
	return l
}

// wait returns the command's outcome, within a bound.
func (l *deviceLogin) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-l.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("tokend login still waiting after 60 s:\n%s", l.stderr.String())
		return nil
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleUser is a browser without JavaScript: a cookie jar that signs in and posts forms.
type consoleUser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func signInConsole(t *testing.T, base, email, password string) *consoleUser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u := &consoleUser{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	_, page := u.get("/signin")
	code, _ := u.post("/signin", url.Values{"email": {email}, "password": {password}, "csrf": {csrfOf(t, page)}, "next": {"/"}})
	if code != http.StatusOK {
		t.Fatalf("console sign-in: got %d", code)
	}
	return u
}

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

func (u *consoleUser) get(path string) (int, string) {
	u.t.Helper()
	resp, err := u.hc.Get(u.base + path)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (u *consoleUser) post(path string, form url.Values) (int, string) {
	u.t.Helper()
	req, err := http.NewRequest("POST", u.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		u.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.base)
	resp, err := u.hc.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCLIDeviceLogin(t *testing.T) {
	t.Parallel()
	const pw = "a long enough password"
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var a initResult
			mustJSON(t, run(t, append([]string{"init", "--account-name", "Caladan", "--plan", "enterprise",
				"--email", "jessica@example.com", "--password", pw, "--json"}, st.flags...)...), &a)
			srv := startServer(t, st)
			cfgPath := filepath.Join(t.TempDir(), "tokend", "config.json")
			env := []string{"TOKEND_CONFIG=" + cfgPath}
			host, _ := os.Hostname()

			// Approved: the CLI gets a PAT named after this machine and keeps it.
			l := startDeviceLogin(t, srv.url, env)
			if want := srv.url + "/device?user_code=" + l.userCode; l.link != want {
				t.Errorf("link: got %q, want %q", l.link, want)
			}
			u := signInConsole(t, srv.url, "jessica@example.com", pw)
			code, page := u.get("/device?user_code=" + l.userCode)
			if code != http.StatusOK || !strings.Contains(page, host) || !strings.Contains(page, "tokend-cli/") {
				t.Fatalf("device page: got %d, want 200 naming the machine %q and the CLI:\n%s", code, host, page)
			}
			code, page = u.post("/device/decide", url.Values{"csrf": {csrfOf(t, page)}, "user_code": {l.userCode},
				"account_id": {fmt.Sprint(a.AccountID)}, "decision": {"approve"}})
			if code != http.StatusOK || !strings.Contains(page, "Device approved") {
				t.Fatalf("approve: got %d:\n%s", code, page)
			}
			if err := l.wait(t); err != nil {
				t.Fatalf("tokend login: %v\n%s", err, l.stderr.String())
			}
			if !strings.Contains(l.stdout.String(), "Logged in as jessica@example.com") {
				t.Errorf("login printed %q, want it to say who is logged in", l.stdout.String())
			}
			fi, err := os.Stat(cfgPath)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("config file: %v, mode %v, want 0600", err, fi.Mode().Perm())
			}
			cfg := readConfig(t, cfgPath)
			if cfg.AccountID != a.AccountID || cfg.UserID != a.UserID || cfg.TokenID == 0 || !strings.HasPrefix(cfg.Token, "dbtu_") {
				t.Fatalf("config: got %+v, want account %d, user %d and a PAT", cfg, a.AccountID, a.UserID)
			}
			var pats []patOut
			if err := json.Unmarshal([]byte(mustCLI(t, env, "pat", "list", "--json")), &pats); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range pats {
				if p.ID == cfg.TokenID {
					found = true
					if p.Name != "tokend CLI on "+host || p.ExpiresAt == "" {
						t.Errorf("the CLI's PAT: got name %q, expires %q, want \"tokend CLI on %s\" with an expiry", p.Name, p.ExpiresAt, host)
					}
				}
			}
			if !found {
				t.Errorf("pat list does not show the CLI's token %d", cfg.TokenID)
			}

			// With that login, the CLI writes trust policies, and a CI job of a trusted issuer
			// exchanges its OIDC token with the running server.
			iss := newTestIssuer(t)
			out := mustCLI(t, env, "trust-policy", "create", "--name", "deploy", "--issuer", iss.url,
				"--audience", "tokend", "--claim", "repository=acme/widgets", "--claim", "ref=refs/heads/*",
				"--permission", "job_admin", "--ttl", "10m", "--json")
			var policy struct {
				ID         int64 `json:"id"`
				TTLSeconds int   `json:"ttl_seconds"`
			}
			if err := json.Unmarshal([]byte(out), &policy); err != nil || policy.ID == 0 || policy.TTLSeconds != 600 {
				t.Fatalf("trust-policy create printed %q (%v), want a policy with a 600 s lifetime", out, err)
			}
			if out := mustCLI(t, env, "trust-policy", "list"); !strings.Contains(out, "repository=acme/widgets") || !strings.Contains(out, "job_admin@all") {
				t.Errorf("trust-policy list printed %q, want the policy's conditions and permissions", out)
			}
			exchanged := iss.exchange(t, srv.url, tokend.AccountID(a.AccountID), "acme/widgets")
			if exchanged.code != http.StatusOK || !strings.HasPrefix(exchanged.token, "dbtc_") {
				t.Fatalf("exchange with the server: got %d %s", exchanged.code, exchanged.body)
			}
			if r := call(t, "GET", fmt.Sprintf("%s/api/v3/accounts/%d/", srv.url, a.AccountID), "Bearer "+exchanged.token, ""); r.code != 200 {
				t.Errorf("the exchanged token: got %d, want 200", r.code)
			}
			if other := iss.exchange(t, srv.url, tokend.AccountID(a.AccountID), "acme/gadgets"); other.code != http.StatusBadRequest || !strings.Contains(other.body, "invalid_grant") {
				t.Errorf("a job of another repository: got %d %s, want 400 invalid_grant", other.code, other.body)
			}
			if out := mustCLI(t, env, "trust-policy", "delete", fmt.Sprint(policy.ID), "--yes"); !strings.Contains(out, "Deleted trust policy") {
				t.Errorf("trust-policy delete printed %q", out)
			}
			if r := call(t, "GET", fmt.Sprintf("%s/api/v3/accounts/%d/", srv.url, a.AccountID), "Bearer "+exchanged.token, ""); r.code != 401 {
				t.Errorf("the exchanged token after its policy was deleted: got %d, want 401", r.code)
			}

			// Denied: the CLI says so and keeps the previous token.
			l = startDeviceLogin(t, srv.url, env)
			_, page = u.get("/device?user_code=" + l.userCode)
			if code, page := u.post("/device/decide", url.Values{"csrf": {csrfOf(t, page)}, "user_code": {l.userCode},
				"decision": {"deny"}}); code != http.StatusOK || !strings.Contains(page, "Request denied") {
				t.Fatalf("deny: got %d:\n%s", code, page)
			}
			if err := l.wait(t); err == nil || !strings.Contains(l.stderr.String(), "denied") {
				t.Errorf("denied login: got %v, stderr %q, want a failure saying it was denied", err, l.stderr.String())
			}
			if readConfig(t, cfgPath).Token != cfg.Token {
				t.Errorf("a denied login changed the config file")
			}

			// A wrong code is refused on the page.
			_, page = u.get("/device")
			if code, page := u.post("/device", url.Values{"csrf": {csrfOf(t, page)}, "user_code": {"BBBB-BBBB"}}); code != http.StatusNotFound ||
				!strings.Contains(page, "unknown, expired or already used") {
				t.Errorf("wrong code: got %d, want 404 saying so:\n%s", code, page)
			}
			srv.stop(t)
			if anyToken.MatchString(srv.logs.String()) {
				t.Errorf("a token reached the server log")
			}
		})
	}
}

// testIssuer is a GitHub-Actions-like OIDC issuer on 127.0.0.1 with one RSA key.
type testIssuer struct {
	url string
	key *rsa.PrivateKey
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &testIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss.url, "jwks_uri": iss.url + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.url = srv.URL
	return iss
}

type exchangeResult struct {
	code  int
	token string
	body  string
}

// exchange signs a job token for repository and trades it at the server.
func (i *testIssuer) exchange(t *testing.T, base string, accountID tokend.AccountID, repository string) exchangeResult {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: i.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(signer).Claims(map[string]any{"iss": i.url, "aud": "tokend", "sub": "repo:" + repository + ":ref:refs/heads/main",
		"repository": repository, "ref": "refs/heads/main", "run_id": "42", "jti": fmt.Sprint(now.UnixNano()),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {raw},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:jwt"}, "account_id": {fmt.Sprint(accountID)}}
	resp, err := http.Post(base+"/api/tokend/v1/oauth/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(b, &ok)
	return exchangeResult{code: resp.StatusCode, token: ok.AccessToken, body: string(b)}
}
