package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"tokend"
	"tokend/idtoken"
)

const deviceCodePath = "/api/tokend/v1/oauth/device/code"

type deviceAnswer struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

func (e *env) startDevice(t *testing.T, name string) deviceAnswer {
	t.Helper()
	r := e.postForm(deviceCodePath, url.Values{"client_id": {"tokend-cli"}, "device_name": {name}})
	if r.Code != http.StatusOK {
		t.Fatalf("device code: got %d: %s", r.Code, r.Raw)
	}
	var d deviceAnswer
	if err := jsonUnmarshal([]byte(r.Raw), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func pollForm(deviceCode string) url.Values {
	return url.Values{"grant_type": {tokend.GrantTypeDeviceCode}, "device_code": {deviceCode}, "client_id": {"tokend-cli"}}
}

var userCodeFormat = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

func TestDeviceAuthorization(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		clk.set(time.Now().UTC().Truncate(time.Second))
		a := e.initAccount("A", "owner@example.com")
		ctx := context.Background()

		if r := e.postForm(deviceCodePath, url.Values{"client_id": {"someone-else"}}); r.Code != http.StatusUnauthorized || r.Error != "invalid_client" {
			t.Errorf("unknown client: got %d %q, want 401 invalid_client", r.Code, r.Error)
		}

		d := e.startDevice(t, "build-box-7")
		if !userCodeFormat.MatchString(d.UserCode) || len(d.DeviceCode) < 40 || d.ExpiresIn != 600 || d.Interval != 5 ||
			d.VerificationURI != e.srv.URL+"/device" || d.VerificationURIComplete != e.srv.URL+"/device?user_code="+d.UserCode {
			t.Errorf("device authorization: got %+v, want a XXXX-XXXX code, a long device code, 600 s, 5 s and %s/device", d, e.srv.URL)
		}

		// Before the user decides: pending, and slow_down to a client polling too fast.
		steps := []struct {
			name      string
			wait      time.Duration
			wantError string
			wantIntvl int
		}{
			{"first poll", 0, "authorization_pending", 0},
			{"at once again", time.Second, "slow_down", 10},
			{"still too fast", 9 * time.Second, "slow_down", 15},
			{"after the interval", 15 * time.Second, "authorization_pending", 0},
		}
		for _, s := range steps {
			clk.advance(s.wait)
			r := e.postForm(tokenPath, pollForm(d.DeviceCode))
			if r.Code != http.StatusBadRequest || r.Error != s.wantError || r.Interval != s.wantIntvl {
				t.Errorf("%s: got %d %q interval %d, want 400 %q interval %d", s.name, r.Code, r.Error, r.Interval, s.wantError, s.wantIntvl)
			}
		}

		// The user approves in the console; the next poll gets a PAT named after the machine.
		got, err := e.svc.PendingDevice(ctx, strings.ToLower(strings.ReplaceAll(d.UserCode, "-", " ")))
		if err != nil || got.DeviceName != "build-box-7" {
			t.Fatalf("PendingDevice by a typed code: got %+v, %v, want build-box-7", got, err)
		}
		if _, err := e.svc.DecideDevice(ctx, a.User.ID, a.Account.ID, d.UserCode, true); err != nil {
			t.Fatalf("approve: %v", err)
		}
		clk.advance(20 * time.Second)
		r := e.postForm(tokenPath, pollForm(d.DeviceCode))
		if r.Code != http.StatusOK || !strings.HasPrefix(r.AccessToken, "dbtu_") || r.TokenType != "Bearer" ||
			r.ExpiresIn != int64(tokend.DeviceTokenLifetime/time.Second) || r.AccountID != int64(a.Account.ID) || r.UserID != int64(a.User.ID) {
			t.Fatalf("poll after approval: got %d %s, want a 90-day dbtu_ token of the owner in account A", r.Code, r.Raw)
		}
		w := e.do("GET", "/api/v3/whoami/", bearer(r.AccessToken), "")
		var who struct {
			User struct {
				ID int64 `json:"id"`
			} `json:"user"`
		}
		w.data(t, &who)
		if w.Code != http.StatusOK || who.User.ID != int64(a.User.ID) {
			t.Errorf("whoami with the device token: got %d user %d, want 200 user %d", w.Code, who.User.ID, a.User.ID)
		}
		pats, _, err := e.store.ListTokens(ctx, tokend.TokenFilter{Kind: tokend.KindPAT, AccountID: a.Account.ID, UserID: a.User.ID})
		if err != nil {
			t.Fatal(err)
		}
		named := false
		for _, p := range pats {
			named = named || p.Name == "tokend CLI on build-box-7"
		}
		if !named {
			t.Errorf("no PAT named \"tokend CLI on build-box-7\"")
		}

		// A code works once.
		if r := e.postForm(tokenPath, pollForm(d.DeviceCode)); r.Error != "invalid_grant" {
			t.Errorf("second use: got %d %q, want invalid_grant", r.Code, r.Error)
		}
		if _, err := e.svc.DecideDevice(ctx, a.User.ID, a.Account.ID, d.UserCode, true); tokend.ErrorCode(err) != tokend.ENotFound {
			t.Errorf("approving a used code: got %v, want not found", err)
		}

		// Denied, expired, unknown.
		denied := e.startDevice(t, "laptop")
		if _, err := e.svc.DecideDevice(ctx, a.User.ID, 0, denied.UserCode, false); err != nil {
			t.Fatal(err)
		}
		if r := e.postForm(tokenPath, pollForm(denied.DeviceCode)); r.Error != "access_denied" {
			t.Errorf("denied: got %d %q, want access_denied", r.Code, r.Error)
		}
		late := e.startDevice(t, "laptop")
		clk.advance(10 * time.Minute)
		if r := e.postForm(tokenPath, pollForm(late.DeviceCode)); r.Error != "expired_token" {
			t.Errorf("after 10 minutes: got %d %q, want expired_token", r.Code, r.Error)
		}
		if _, err := e.svc.DecideDevice(ctx, a.User.ID, a.Account.ID, late.UserCode, true); tokend.ErrorCode(err) != tokend.ENotFound {
			t.Errorf("approving an expired code: got %v, want not found", err)
		}
		if r := e.postForm(tokenPath, pollForm("no-such-code")); r.Error != "invalid_grant" {
			t.Errorf("unknown device code: got %d %q, want invalid_grant", r.Code, r.Error)
		}
		if r := e.postForm(tokenPath, url.Values{"grant_type": {tokend.GrantTypeDeviceCode}, "device_code": {late.DeviceCode},
			"client_id": {"other"}}); r.Error != "invalid_client" {
			t.Errorf("poll with another client id: got %d %q, want invalid_client", r.Code, r.Error)
		}

		// Approval needs a membership (any license may hold a PAT, which the license caps); the
		// account's PAT lifetime cap applies.
		ro := addUser(t, e, a.Token, a.Account.ID, `{"email": "ro@example.com", "license_type": "read_only"}`)
		other := e.initAccount("B", "owner-b@example.com")
		d2 := e.startDevice(t, "laptop")
		for name, c := range map[string]struct{ user, account int64 }{
			"not a member":      {int64(a.User.ID), int64(other.Account.ID)},
			"account of no one": {int64(a.User.ID), 999999},
		} {
			if _, err := e.svc.DecideDevice(ctx, tokend.UserID(c.user), tokend.AccountID(c.account), d2.UserCode, true); tokend.ErrorCode(err) != tokend.EForbidden {
				t.Errorf("%s: got %v, want forbidden", name, err)
			}
		}
		roDevice := e.startDevice(t, "ro-laptop")
		if _, err := e.svc.DecideDevice(ctx, tokend.UserID(ro.ID), a.Account.ID, roDevice.UserCode, true); err != nil {
			t.Fatalf("approve as a read-only member: %v", err)
		}
		clk.advance(10 * time.Second)
		roTok := e.postForm(tokenPath, pollForm(roDevice.DeviceCode))
		if roTok.Code != http.StatusOK || roTok.UserID != ro.ID {
			t.Fatalf("read-only member's device token: got %d %s", roTok.Code, roTok.Raw)
		}
		if r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a.Account.ID), bearer(roTok.AccessToken), `{"name": "x"}`); r.Code != http.StatusForbidden {
			t.Errorf("read-only member's device token writes a project: got %d, want 403", r.Code)
		}
		week := 7 * 24 * time.Hour
		weekSeconds := int64(week / time.Second)
		if _, err := e.svc.UpdateAccount(ctx, mustSession(t, e, a), a.Account.ID, tokend.AccountUpdate{PATMaxLifetimeSeconds: &weekSeconds}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.DecideDevice(ctx, a.User.ID, a.Account.ID, d2.UserCode, true); err != nil {
			t.Fatal(err)
		}
		clk.advance(10 * time.Second)
		if r := e.postForm(tokenPath, pollForm(d2.DeviceCode)); r.Code != http.StatusOK || r.ExpiresIn != int64(week/time.Second) {
			t.Errorf("token under a 7-day cap: got %d expires_in %d, want 200 and %d", r.Code, r.ExpiresIn, int64(week/time.Second))
		}
	})
}

// mustSession is the owner's session principal in their account.
func mustSession(t *testing.T, e *env, a *tokend.InitResult) *tokend.Principal {
	t.Helper()
	p, err := e.svc.SessionPrincipal(context.Background(), a.User.ID, a.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSingleUseUnderConcurrency fires the same approved device code, and the same ID token,
// from several clients at once: exactly one gets a token, on both stores.
func TestSingleUseUnderConcurrency(t *testing.T) {
	t.Parallel()
	key := newRSAKey(t, "c-1")
	iss := newIssuer(t, key)
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now, o.IDTokens = clk.now, idtoken.New(idtoken.Options{Now: clk.now}) }, func(t *testing.T, e *env) {
		clk.set(time.Now().UTC().Truncate(time.Second))
		a := e.initAccount("A", "owner@example.com")
		createPolicy(t, e, a.Token, a.Account.ID, fmt.Sprintf(`{"name": "ci", "issuer": %q, "audience": "tokend",
			"claims": {"repository": "acme/widgets"}, "permissions": [{"permission_set": "readonly", "all_projects": true}]}`, iss.url()))
		d := e.startDevice(t, "laptop")
		if _, err := e.svc.DecideDevice(context.Background(), a.User.ID, a.Account.ID, d.UserCode, true); err != nil {
			t.Fatal(err)
		}
		jobToken := sign(t, key, githubClaims(iss.url(), "tokend", clk.now()))
		for name, form := range map[string]url.Values{
			"device code": pollForm(d.DeviceCode),
			"ID token":    exchangeForm(jobToken, a.Account.ID),
		} {
			t.Run(name, func(t *testing.T) {
				const n = 8
				codes := make(chan int, n)
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						resp, err := http.Post(e.srv.URL+tokenPath, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
						if err != nil {
							codes <- 0
							return
						}
						resp.Body.Close()
						codes <- resp.StatusCode
					}()
				}
				wg.Wait()
				close(codes)
				ok := 0
				for c := range codes {
					switch c {
					case http.StatusOK:
						ok++
					case http.StatusBadRequest:
					default:
						t.Errorf("a concurrent request got %d, want 200 or 400", c)
					}
				}
				if ok != 1 {
					t.Errorf("%d concurrent uses: %d got a token, want exactly 1", n, ok)
				}
			})
		}
	})
}
