package httpapi_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
	"tokend/secret"
)

// After an address has used up its token failures, a token that verifies is still served
// from that address, on the API and on the revocation endpoint: the limit guards the work
// failures cause, and one client behind a shared address cannot lock everyone else out.
func TestValidTokenIsNeverRefusedForFailures(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "a@example.com")
		whoami := "/api/v3/whoami/"
		if r := e.do("GET", whoami, bearer(a.Token), ""); r.Code != http.StatusOK { // cached from here on
			t.Fatalf("before: got %d, want 200", r.Code)
		}
		var limited *response
		for i := 0; i < 60 && limited == nil; i++ {
			r := e.do("GET", whoami, bearer(mustGenerate(t, secret.PAT)), "")
			switch r.Code {
			case http.StatusTooManyRequests:
				limited = r
			case http.StatusUnauthorized:
			default:
				t.Fatalf("bad token %d: got %d, want 401 or 429", i, r.Code)
			}
		}
		if limited == nil || limited.Header.Get("Retry-After") == "" {
			t.Fatal("60 bad tokens from one address: got no 429 with Retry-After")
		}
		fresh := mintPAT(t, e, a.Account.ID, a.User.ID) // never verified yet: not cached
		leaked := mintPAT(t, e, a.Account.ID, a.User.ID)
		tests := []struct {
			name, method, path, auth, body string
			want                           int
		}{
			{"a cached PAT", "GET", whoami, bearer(a.Token), "", http.StatusOK},
			{"a PAT not yet cached", "GET", whoami, bearer(fresh), "", http.StatusOK},
			{"revoking a leaked token", "POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, leaked), http.StatusOK},
			{"another bad token", "GET", whoami, bearer(mustGenerate(t, secret.PAT)), "", http.StatusTooManyRequests},
			{"revoking an unknown token", "POST", "/api/tokend/v1/revoke/", "", fmt.Sprintf(`{"token": %q}`, mustGenerate(t, secret.Service)), http.StatusTooManyRequests},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if r := e.do(tc.method, tc.path, tc.auth, tc.body); r.Code != tc.want {
					t.Errorf("got %d, want %d: %s", r.Code, tc.want, r.Raw)
				}
			})
		}
	})
}

// Two Authorization headers are refused: a proxy, a gateway and tokend could each read a
// different one.
func TestTwoAuthorizationHeadersAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("A", "a@example.com")
	bad := mustGenerate(t, secret.PAT)
	tests := []struct {
		name, method, path string
		headers            []string
	}{
		{"valid first", "GET", "/api/v3/whoami/", []string{bearer(a.Token), bearer(bad)}},
		{"valid second", "GET", "/api/v3/whoami/", []string{bearer(bad), bearer(a.Token)}},
		{"basic and bearer on PAT creation", "POST", patsPath(a.Account.ID, a.User.ID),
			[]string{basicAuth("a@example.com", "a long enough password"), bearer(a.Token)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(`{"name": "x"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("got %d, want 400", resp.StatusCode)
			}
		})
	}
}

// One limit on password guesses for every way a password is checked, keyed by who guesses
// (the address) and at whom (the e-mail): the guesser is stopped on both doors, the person is
// not locked out from their own address.
func TestPasswordGuessesShareOneLimit(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("A", "owner@example.com")
		path := patsPath(a.Account.ID, a.User.ID)
		const right = "a long enough password"
		ctx := context.Background()

		// Five wrong passwords at the console's sign-in from 127.0.0.1 ...
		for i := range 5 {
			if _, _, err := e.svc.SignIn(ctx, "owner@example.com", "wrong", "127.0.0.1", "test"); err != tokend.ErrBadCredentials {
				t.Fatalf("sign-in %d: got %v, want ErrBadCredentials", i+1, err)
			}
		}
		// ... and HTTP Basic on the API from the same address is limited too, even with the
		// right password.
		r := e.do("POST", path, basicAuth("owner@example.com", right), `{"name": "x"}`)
		if r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Errorf("Basic from the guesser's address: got %d (Retry-After %q), want 429 with Retry-After", r.Code, r.Header.Get("Retry-After"))
		}
		// The person, from their own address, is not locked out.
		if r := e.from("192.0.2.10", "POST", path, basicAuth("owner@example.com", right), `{"name": "mine"}`); r.Code != http.StatusCreated {
			t.Errorf("Basic from the owner's address: got %d: %s, want 201", r.Code, r.Raw)
		}
		if _, _, err := e.svc.SignIn(ctx, "owner@example.com", right, "192.0.2.10", "test"); err != nil {
			t.Errorf("sign-in from the owner's address: got %v, want a session", err)
		}

		// The other way round: wrong passwords over Basic limit the console's sign-in.
		for range 5 {
			e.from("198.51.100.3", "POST", path, basicAuth("owner@example.com", "wrong"), `{"name": "x"}`)
		}
		if _, _, err := e.svc.SignIn(ctx, "owner@example.com", right, "198.51.100.3", "test"); tokend.ErrorCode(err) != tokend.ERateLimited {
			t.Errorf("sign-in from the Basic guesser's address: got %v, want rate_limited", err)
		}
	})
}

// Old-format tokens cost a slow hash to check. Wrong secrets for a known uid, from one address
// or from many, run only a bounded number of slow hashes; slow hashes run a few at a time,
// taken without waiting; and verified traffic goes on while they run.
func TestSlowHashesAreBounded(t *testing.T) {
	t.Parallel()
	var (
		hashes  atomic.Int64
		hold    = make(chan struct{})
		holding atomic.Bool
		entered = make(chan struct{}, 1)
	)
	fixed := time.Now().UTC().Truncate(time.Second) // no budget refills during the test
	tune := func(o *tokend.Options) {
		o.Now = func() time.Time { return fixed }
		o.SlowHashWorkers = 1
		o.SlowHashHook = func() {
			hashes.Add(1)
			if holding.Load() {
				entered <- struct{}{}
				<-hold
			}
		}
	}
	eachStoreWith(t, tune, func(t *testing.T, e *env) {
		hashes.Store(0)
		a := e.initAccount("A", "a@example.com")
		ctx := context.Background()
		imported := func(uid string) string {
			t.Helper()
			tok := "dbtc_" + uid + "_" + "theRightSecret0123456789"
			slow, err := secret.SlowHash(rand.Reader, tok, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.ImportServiceTokens(ctx, []tokend.ImportedToken{{AccountID: a.Account.ID, UID: uid,
				SlowHash: slow, Name: uid, Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}}}); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		wrong := func(uid string, i int) string { return fmt.Sprintf("dbtc_%s_wrongSecret%08d", uid, i) }
		whoami := "/api/v3/whoami/"
		imported("Target01")

		// 16 wrong secrets for one uid from one address.
		for i := range 16 {
			e.do("GET", whoami, bearer(wrong("Target01", i)), "")
		}
		if got := hashes.Load(); got > 5 {
			t.Errorf("16 wrong secrets for one uid from one address: got %d slow hashes, want at most 5", got)
		}
		// The same uid from 16 addresses: the uid's budget is spent.
		before := hashes.Load()
		for i := range 16 {
			e.from(fmt.Sprintf("198.51.100.%d", i+1), "GET", whoami, bearer(wrong("Target01", 100+i)), "")
		}
		if got := hashes.Load() - before; got != 0 {
			t.Errorf("16 more from 16 addresses: got %d slow hashes, want 0", got)
		}
		// Many uids from one address: the address's budget bounds them.
		before = hashes.Load()
		for i := range 16 {
			uid := fmt.Sprintf("Spread%02d", i%4)
			if i < 4 {
				imported(uid)
			}
			e.from("203.0.113.9", "GET", whoami, bearer(wrong(uid, i)), "")
		}
		if got := hashes.Load() - before; got > 10 {
			t.Errorf("16 wrong secrets over 4 uids from one address: got %d slow hashes, want at most 10", got)
		}

		// A real old-format token from elsewhere still verifies (and is upgraded).
		good := imported("Good0001")
		if r := e.from("192.0.2.20", "GET", whoami, bearer(good), ""); r.Code != http.StatusOK {
			t.Errorf("a valid old-format token: got %d: %s, want 200", r.Code, r.Raw)
		}

		// While a slow hash holds the pool, another is refused at once rather than queued, and
		// verified traffic is served.
		imported("Held0001")
		holding.Store(true)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.from("192.0.2.30", "GET", whoami, bearer(wrong("Held0001", 1)), "")
		}()
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the slow hash never started")
		}
		holding.Store(false)
		if r := e.from("192.0.2.31", "GET", whoami, bearer(wrong("Good0001", 2)), ""); r.Code != http.StatusUnauthorized {
			// Good0001 is upgraded: a wrong secret for it is refused without a slow hash.
			t.Errorf("a wrong secret for an upgraded token: got %d, want 401", r.Code)
		}
		imported("Other001")
		if r := e.from("192.0.2.32", "GET", whoami, bearer(wrong("Other001", 3)), ""); r.Code != http.StatusTooManyRequests {
			t.Errorf("a slow hash while the pool is busy: got %d, want 429", r.Code)
		}
		if r := e.from("192.0.2.33", "GET", whoami, bearer(a.Token), ""); r.Code != http.StatusOK {
			t.Errorf("a PAT while the pool is busy: got %d, want 200", r.Code)
		}
		close(hold)
		wg.Wait()
		hold = make(chan struct{})
	})
}
