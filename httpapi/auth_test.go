package httpapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/secret"
)

func TestAuthSchemes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("Spice Harvesting", "paul@example.com")
	tests := []struct {
		name string
		auth string
		want int
	}{
		{"bearer", "Bearer " + res.Token, http.StatusOK},
		{"token", "Token " + res.Token, http.StatusOK},
		{"lowercase scheme", "bearer " + res.Token, http.StatusOK},
		{"no header", "", http.StatusUnauthorized},
		{"basic scheme", "Basic " + res.Token, http.StatusUnauthorized},
		{"no scheme", res.Token, http.StatusUnauthorized},
		{"malformed", "Bearer dbtu_short", http.StatusUnauthorized},
		{"bad checksum", "Bearer " + flipLast(res.Token), http.StatusUnauthorized},
		{"unknown with valid checksum", "Bearer " + mustGenerate(t, secret.PAT), http.StatusUnauthorized},
		{"unknown service token", "Bearer " + mustGenerate(t, secret.Service), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/v2/accounts/", "/api/v3/accounts/", "/api/v2/whoami/", "/api/v3/whoami/"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				r := e.do("GET", path, tt.auth, "")
				if r.Code != tt.want {
					t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
				if r.Body.Status.Code != tt.want {
					t.Errorf("got status.code %d, want %d", r.Body.Status.Code, tt.want)
				}
				if tt.want == http.StatusUnauthorized {
					assertUnauthorized(t, r)
				}
			})
		}
	}
}

func assertUnauthorized(t testing.TB, r *response) {
	t.Helper()
	if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("got WWW-Authenticate %q, want a Bearer challenge", got)
	}
	if r.Body.Status.IsSuccess {
		t.Errorf("got is_success true on a 401")
	}
	if string(r.Body.Data) != "null" {
		t.Errorf("got data %s, want null", r.Body.Data)
	}
	msg := r.Body.Status.UserMessage
	if msg != "Invalid token." && !strings.HasPrefix(msg, "Authentication credentials were not provided") {
		t.Errorf("got user_message %q, want \"Invalid token.\"", msg)
	}
}

func flipLast(tok string) string {
	last := tok[len(tok)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return tok[:len(tok)-1] + string(repl)
}

func mustGenerate(t testing.TB, k secret.Kind) string {
	t.Helper()
	tok, _, err := secret.Generate(rand.Reader, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenInQueryStringRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("A", "a@example.com")
	for _, q := range []string{"?token=" + res.Token, "?api_key=x", "?x=" + res.Token} {
		t.Run(q[:6], func(t *testing.T) {
			r := e.do("GET", "/api/v2/accounts/"+q, bearer(res.Token), "")
			if r.Code != http.StatusBadRequest {
				t.Fatalf("got %d, want 400: %s", r.Code, r.Raw)
			}
			if strings.Contains(string(r.Raw), res.Token) {
				t.Errorf("the response echoes the token")
			}
		})
	}
}

func TestTrailingSlashWithoutRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("A", "a@example.com")
	id := res.Account.ID
	for _, p := range []string{"/api/v2/accounts", "/api/v3/accounts", fmt.Sprintf("/api/v2/accounts/%d", id),
		fmt.Sprintf("/api/v3/accounts/%d", id), "/api/v2/whoami", "/api/v3/whoami"} {
		for _, path := range []string{p, p + "/"} {
			t.Run(path, func(t *testing.T) {
				if r := e.do("GET", path, bearer(res.Token), ""); r.Code != http.StatusOK {
					t.Errorf("got %d, want 200 (no redirect): %s", r.Code, r.Raw)
				}
			})
		}
	}
}

func TestRevokedTokenFailsOnNextRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("A", "a@example.com")
	// Warm the cache first: revocation must beat it.
	for i := 0; i < 3; i++ {
		if r := e.do("GET", "/api/v3/accounts/", bearer(res.Token), ""); r.Code != http.StatusOK {
			t.Fatalf("got %d, want 200", r.Code)
		}
	}
	r := e.do("POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, res.Token))
	if r.Code != http.StatusOK {
		t.Fatalf("revoke: got %d, want 200: %s", r.Code, r.Raw)
	}
	r = e.do("GET", "/api/v3/accounts/", bearer(res.Token), "")
	if r.Code != http.StatusUnauthorized {
		t.Fatalf("after revoke: got %d, want 401", r.Code)
	}
	assertUnauthorized(t, r)
	// A second revoke of the same token finds nothing to revoke.
	if r := e.do("POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, res.Token)); r.Code != http.StatusUnauthorized {
		t.Errorf("second revoke: got %d, want 401", r.Code)
	}
}

func TestExpiredToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("A", "a@example.com")
	ctx := context.Background()
	tok := mustGenerate(t, secret.PAT)
	p, err := secret.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	h := secret.Hash(tok)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, tc := range []struct {
		name    string
		expires time.Time
		want    int
	}{
		{"expired", now.Add(-time.Minute), http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.store.CreateToken(ctx, &tokend.Token{Kind: tokend.KindPAT, AccountID: res.Account.ID,
				UserID: res.User.ID, UID: p.UID, Hash: h[:], State: tokend.StateActive, ExpiresAt: tc.expires,
				CreatedAt: now, UpdatedAt: now})
			if err != nil {
				t.Fatal(err)
			}
			r := e.do("GET", "/api/v3/accounts/", bearer(tok), "")
			if r.Code != tc.want {
				t.Fatalf("got %d, want %d", r.Code, tc.want)
			}
			assertUnauthorized(t, r)
		})
	}
}

func TestNoTokenInLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("A", "a@example.com")
	e.do("GET", "/api/v3/accounts/", bearer(res.Token), "")
	e.do("GET", "/api/v3/accounts/?token="+res.Token, bearer(res.Token), "")
	e.do("GET", "/api/v3/accounts/", bearer(flipLast(res.Token)), "")
	e.do("POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, res.Token))
	_, secretPart, _ := strings.Cut(res.Token, "_")
	if strings.Contains(e.logs.String(), secretPart[10:40]) {
		t.Errorf("a token's secret reached the logs:\n%s", e.logs.String())
	}
	if !strings.Contains(e.logs.String(), "/api/v3/accounts/") {
		t.Errorf("the request log is missing; the check above proves nothing")
	}
}

// The revocation endpoint needs no credential, so guessing at it must hit the same limit as
// guessing at the API: after the burst, failures are answered 429.
func TestRevokeIsRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.initAccount("A", "a@example.com")
	var limited *response
	for i := 0; i < 60 && limited == nil; i++ {
		r := e.do("POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, mustGenerate(t, secret.Service)))
		switch r.Code {
		case http.StatusTooManyRequests:
			limited = r
		case http.StatusUnauthorized:
		default:
			t.Fatalf("attempt %d: got %d, want 401 or 429", i, r.Code)
		}
	}
	if limited == nil || limited.Header.Get("Retry-After") == "" {
		t.Fatalf("60 revocations of unknown tokens: got no 429 with Retry-After")
	}
	// A real token is still revoked: holding it is the right to kill it, whoever else guesses
	// from the same address.
	if r := e.do("POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, res.Token)); r.Code != http.StatusOK {
		t.Errorf("a real token while limited: got %d, want 200", r.Code)
	}
}
