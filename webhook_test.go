package tokend_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tokend"
	"tokend/password"
	"tokend/perm"
	"tokend/postgres"
	"tokend/postgres/pgtest"
	"tokend/sqlite/sqlitetest"
)

// hookClock is a clock the test moves.
type hookClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *hookClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *hookClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// received is one request the receiver took, after its signature checked out.
type received struct {
	id, event string
	payload   map[string]any
}

// receiver is a webhook endpoint on loopback. It checks every request's signature with its
// own implementation of the Standard Webhooks scheme and answers fail's status while fail
// returns one (0: 204).
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	secret atomic.Value // string
	fail   func(n int) int

	mu   sync.Mutex
	got  []received
	hits int
	bad  int
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t}
	r.secret.Store("")
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits++
	id, stamp := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	if !verifyStandardWebhook(r.secret.Load().(string), id, stamp, req.Header.Get("webhook-signature"), body) {
		r.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.fail != nil {
		if code := r.fail(r.hits); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("body %q: %v", body, err)
	}
	ev, _ := p["type"].(string)
	r.got = append(r.got, received{id: id, event: ev, payload: p})
	w.WriteHeader(http.StatusNoContent)
}

// events returns the event types taken, sorted: messages due together go out together, in no
// set order.
func (r *receiver) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, g := range r.got {
		out = append(out, g.event)
	}
	slices.Sort(out)
	return out
}

// find returns the first message of event taken.
func (r *receiver) find(event string) map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.got {
		if g.event == event {
			return g.payload
		}
	}
	return nil
}

// verifyStandardWebhook is the receiver's check, written from the specification and nothing
// of tokend's: HMAC-SHA256 under the base64 key after "whsec_" of "id.timestamp.body", equal
// to one of the header's space-separated "v1,<base64>" signatures.
func verifyStandardWebhook(secret, id, stamp, header string, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || id == "" || stamp == "" {
		return false
	}
	if _, err := strconv.ParseInt(stamp, 10, 64); err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, id+"."+stamp+".")
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Split(header, " ") {
		if sig, ok := strings.CutPrefix(s, "v1,"); ok {
			if got, err := base64.StdEncoding.DecodeString(sig); err == nil && hmac.Equal(got, want) {
				return true
			}
		}
	}
	return false
}

type hookEnv struct {
	svc   *tokend.Service
	clock *hookClock
	res   *tokend.InitResult
	owner *tokend.Principal
}

func newHookEnv(tb testing.TB, st tokend.Store, opts tokend.Options) *hookEnv {
	tb.Helper()
	clock := &hookClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts.Now = clock.Now
	opts.PasswordParams = password.Params{Memory: 64, Time: 1, Threads: 1}
	opts.SlowHashIterations = 1000
	svc := tokend.NewService(st, opts)
	res, err := svc.Init(tb.Context(), tokend.InitParams{AccountName: "A", Plan: perm.PlanEnterprise,
		Email: "owner@example.com", Password: "a long enough password"})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := svc.Authenticate(tb.Context(), res.Token, "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return &hookEnv{svc: svc, clock: clock, res: res, owner: p}
}

func (e *hookEnv) hook(tb testing.TB, r *receiver, events ...string) *tokend.WebhookEndpoint {
	tb.Helper()
	in := tokend.WebhookInput{URL: r.srv.URL + "/hook"}
	if events != nil {
		in.Events = events
	}
	w, err := e.svc.CreateWebhook(tb.Context(), e.owner, e.res.Account.ID, in)
	if err != nil {
		tb.Fatal(err)
	}
	r.secret.Store(w.Secret)
	return w
}

// deliverAll runs delivery passes until none is due (bounded).
func (e *hookEnv) deliverAll(tb testing.TB) {
	tb.Helper()
	for range 50 {
		n, err := e.svc.DeliverWebhooks(tb.Context())
		if err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	tb.Fatal("deliveries did not settle in 50 passes")
}

// stores runs f on an SQLite file and a PostgreSQL schema, each with ids offset by kind, so
// that a swapped account and user id fails instead of matching by coincidence.
func stores(t *testing.T, f func(t *testing.T, st tokend.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, sqlitetest.Open(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := pgtest.SchemaURL(t)
		st, err := postgres.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		pgtest.OffsetIDs(t, u)
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

// TestWebhookEvents: token events of a change reach a subscribed endpoint once each, signed;
// an endpoint not subscribed to an event, or disabled, gets nothing; a change that fails
// queues nothing.
func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		e := newHookEnv(t, st, tokend.Options{WebhookAllowPrivate: true})
		ctx := t.Context()
		acct := e.res.Account.ID
		r, only := newReceiver(t), newReceiver(t)
		e.hook(t, r)
		e.hook(t, only, tokend.EventTokenLeaked)
		off := newReceiver(t)
		w := e.hook(t, off)
		disabled := true
		if _, err := e.svc.UpdateWebhook(ctx, e.owner, acct, w.ID, tokend.WebhookUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}

		tok, raw, err := e.svc.CreateServiceToken(ctx, e.owner, acct, tokend.ServiceTokenInput{Name: "ci",
			Grants: []perm.Grant{{Set: perm.JobViewer, AllProjects: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.CreateServiceToken(ctx, e.owner, acct, tokend.ServiceTokenInput{Name: "",
			Grants: []perm.Grant{{Set: "no_such_set", AllProjects: true}}}); err == nil {
			t.Fatal("a refused creation succeeded")
		}
		other, _, err := e.svc.CreateServiceToken(ctx, e.owner, acct, tokend.ServiceTokenInput{Name: "other"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteServiceToken(ctx, e.owner, acct, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RevokeLeaked(ctx, raw, "203.0.113.7", "scanner"); err != nil {
			t.Fatal(err)
		}
		e.deliverAll(t)

		want := []string{"token.created", "token.created", "token.leaked", "token.revoked"}
		if got := r.events(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("subscribed to all: got %v, want %v", got, want)
		}
		if got := only.events(); len(got) != 1 || got[0] != "token.leaked" {
			t.Errorf("subscribed to token.leaked: got %v, want [token.leaked]", got)
		}
		if off.hits != 0 {
			t.Errorf("disabled endpoint: got %d requests, want 0", off.hits)
		}
		if r.bad != 0 || only.bad != 0 {
			t.Errorf("got %d and %d requests whose signature did not verify, want 0", r.bad, only.bad)
		}
		seen := map[string]bool{}
		for _, g := range r.got {
			if seen[g.id] || !strings.HasPrefix(g.id, "msg_") {
				t.Errorf("message id %q: repeated or malformed", g.id)
			}
			seen[g.id] = true
		}
		leak := r.find("token.leaked")
		data, _ := leak["data"].(map[string]any)
		token, _ := data["token"].(map[string]any)
		if leak["timestamp"] == "" || data["ip"] != "203.0.113.7" || token["uid"] != tok.UID || token["kind"] != "service" ||
			token["id"] != float64(tok.ID) {
			t.Errorf("token.leaked payload: got %v, want the token's id, uid and kind and the reporter's address", leak)
		}
	})
}

// TestWebhookRetries: an endpoint that answers 500 is tried again after a growing, jittered
// wait, until it takes the message; the delivery log has each attempt; past the retry window
// a message fails, and a redelivery by hand sends it again under the same id.
func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		e := newHookEnv(t, st, tokend.Options{WebhookAllowPrivate: true})
		ctx := t.Context()
		acct := e.res.Account.ID
		r := newReceiver(t)
		r.fail = func(n int) int {
			if n <= 3 {
				return http.StatusInternalServerError
			}
			return 0
		}
		w := e.hook(t, r, tokend.EventTokenCreated)
		if _, _, err := e.svc.CreateServiceToken(ctx, e.owner, acct, tokend.ServiceTokenInput{Name: "ci"}); err != nil {
			t.Fatal(err)
		}
		// Attempts 1 to 3 fail; each waits between half and all of 5 s × 2^(n-1).
		for n := 1; n <= 3; n++ {
			if k, err := e.svc.DeliverWebhooks(ctx); err != nil || k != 1 {
				t.Fatalf("attempt %d: got %d sent (%v), want 1", n, k, err)
			}
			if k, _ := e.svc.DeliverWebhooks(ctx); k != 0 {
				t.Fatalf("after attempt %d: got %d due at once, want 0 (backoff)", n, k)
			}
			ms, _, err := e.svc.WebhookDeliveries(ctx, e.owner, acct, w.ID, "", tokend.Page{})
			if err != nil || len(ms) != 1 {
				t.Fatalf("deliveries: got %d (%v), want 1", len(ms), err)
			}
			wait := ms[0].NextAttemptAt.Sub(e.clock.Now())
			full := 5 * time.Second << (n - 1)
			if ms[0].State != tokend.WebhookPending || wait < full/2 || wait > full || ms[0].LastStatus != 500 {
				t.Fatalf("after attempt %d: got %s, next in %v, last status %d; want pending, next in [%v, %v], 500",
					n, ms[0].State, wait, ms[0].LastStatus, full/2, full)
			}
			e.clock.Add(wait)
		}
		e.deliverAll(t)
		ms, _, err := e.svc.WebhookDeliveries(ctx, e.owner, acct, w.ID, "", tokend.Page{})
		if err != nil {
			t.Fatal(err)
		}
		m, attempts, err := e.svc.WebhookDelivery(ctx, e.owner, acct, w.ID, ms[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.State != tokend.WebhookDelivered || len(attempts) != 4 || attempts[3].StatusCode != 204 ||
			attempts[0].Error != "the endpoint answered 500 Internal Server Error" {
			t.Errorf("got %s with attempts %+v, want delivered at the 4th, after three 500s", m.State, attempts)
		}
		if got := r.events(); len(got) != 1 {
			t.Errorf("receiver took %d messages, want 1", len(got))
		}

		// A message that is never taken fails once its day of retries is over.
		r.fail = func(int) int { return http.StatusBadGateway }
		if _, _, err := e.svc.CreateServiceToken(ctx, e.owner, acct, tokend.ServiceTokenInput{Name: "second"}); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			if _, err := e.svc.DeliverWebhooks(ctx); err != nil {
				t.Fatal(err)
			}
			e.clock.Add(time.Hour)
		}
		failed, _, err := e.svc.WebhookDeliveries(ctx, e.owner, acct, w.ID, tokend.WebhookFailed, tokend.Page{})
		if err != nil || len(failed) != 1 {
			t.Fatalf("failed messages: got %d (%v), want 1", len(failed), err)
		}
		if f := failed[0]; f.Attempts < 20 || f.Attempts > 30 || f.LastStatus != 502 {
			t.Errorf("failed message: %d attempts, last status %d; want 20 to 30 attempts over a day, 502", f.Attempts, f.LastStatus)
		}
		r.fail = nil
		if _, err := e.svc.Redeliver(ctx, e.owner, acct, w.ID, failed[0].ID); err != nil {
			t.Fatal(err)
		}
		e.deliverAll(t)
		r.mu.Lock()
		last := r.got[len(r.got)-1]
		r.mu.Unlock()
		if last.id != failed[0].UID {
			t.Errorf("redelivered under id %q, want the message's own %q", last.id, failed[0].UID)
		}
	})
}

// TestWebhookPrivateAddresses: without --webhook-allow-private, a URL naming a loopback or
// private address (or http://) is refused, and an endpoint whose address turns out to be
// loopback when the connection is made is not reached: the attempt says why.
func TestWebhookPrivateAddresses(t *testing.T) {
	t.Parallel()
	st := sqlitetest.Open(t)
	e := newHookEnv(t, st, tokend.Options{})
	ctx := t.Context()
	acct := e.res.Account.ID
	for _, u := range []string{"http://hooks.example.com/", "https://127.0.0.1/", "https://[::1]/", "https://10.0.0.8/",
		"https://169.254.169.254/latest", "https://localhost/", "https://[::ffff:127.0.0.1]/", "https://user:pw@hooks.example.com/"} {
		if _, err := e.svc.CreateWebhook(ctx, e.owner, acct, tokend.WebhookInput{URL: u}); tokend.ErrorCode(err) != tokend.EInvalid {
			t.Errorf("%s: got %v, want it refused as invalid", u, err)
		}
	}
	// Written past the API's check, as a name that resolves to loopback would be.
	r := newReceiver(t)
	now := e.clock.Now()
	w := &tokend.WebhookEndpoint{AccountID: acct, URL: strings.Replace(r.srv.URL, "http://127.0.0.1", "https://localhost", 1),
		Events: tokend.WebhookEvents, Secret: "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhookEndpoint(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateServiceToken(ctx, e.owner, acct, tokend.ServiceTokenInput{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.DeliverWebhooks(ctx); err != nil || n != 1 {
		t.Fatalf("got %d sent (%v), want 1 attempt", n, err)
	}
	ms, _, err := e.svc.WebhookDeliveries(ctx, e.owner, acct, w.ID, "", tokend.Page{})
	if err != nil || len(ms) != 1 {
		t.Fatalf("got %d deliveries (%v), want 1", len(ms), err)
	}
	if ms[0].State != tokend.WebhookPending || !strings.Contains(ms[0].LastError, "loopback") || r.hits != 0 {
		t.Errorf("got %s, %q, %d requests; want a pending message refused as loopback and no request", ms[0].State, ms[0].LastError, r.hits)
	}
}

// TestWebhookNotices: token.expiring once per threshold (only those crossed after creation),
// token.expired once, token.new_ip once per new address, whatever the number of sweeps.
func TestWebhookNotices(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		e := newHookEnv(t, st, tokend.Options{WebhookAllowPrivate: true})
		ctx := t.Context()
		acct := e.res.Account.ID
		r := newReceiver(t)
		e.hook(t, r, tokend.EventTokenExpiring, tokend.EventTokenExpired, tokend.EventTokenNewIP)
		day := 24 * time.Hour
		_, raw, err := e.svc.CreatePAT(ctx, e.owner, acct, e.res.User.ID, tokend.PATInput{Name: "laptop",
			ExpiresAt: e.clock.Now().Add(20 * day)})
		if err != nil {
			t.Fatal(err)
		}
		sweep := func() {
			for range 2 { // a second sweep (another node's, say) finds nothing more
				if _, err := e.svc.NotifyExpiry(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		sweep() // 20 days left: the 30-day threshold was crossed before it was made
		e.clock.Add(14 * day)
		sweep() // 6 days left
		e.clock.Add(5*day + 12*time.Hour)
		sweep() // 12 hours left
		e.clock.Add(day)
		sweep() // expired
		e.deliverAll(t)
		want := []string{"token.expired", "token.expiring", "token.expiring"}
		if got := r.events(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("got %v, want %v", got, want)
		}
		var days []string
		for _, g := range r.got {
			if g.event == "token.expiring" {
				d, _ := g.payload["data"].(map[string]any)["detail"].(map[string]any)
				days = append(days, d["days"].(string))
			}
		}
		slices.Sort(days)
		if strings.Join(days, ",") != "1,7" {
			t.Errorf("expiring notices: got days %v, want 1 and 7", days)
		}

		// New addresses: the owner's token was first used from 127.0.0.1 by newHookEnv.
		for _, ip := range []string{"127.0.0.1", "198.51.100.4", "198.51.100.4", "2001:db8::5"} {
			if _, err := e.svc.Authenticate(ctx, e.res.Token, ip); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, e.res.Token, "198.51.100.4"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		e.deliverAll(t)
		ips := map[string]int{}
		for _, g := range r.got[3:] {
			d, _ := g.payload["data"].(map[string]any)
			if g.event != "token.new_ip" {
				t.Errorf("got %s, want token.new_ip", g.event)
			}
			ips[d["ip"].(string)]++
		}
		if len(ips) != 3 || ips["127.0.0.1"] != 1 || ips["198.51.100.4"] != 1 || ips["2001:db8::5"] != 1 {
			t.Errorf("new addresses: got %v, want each of the three once", ips)
		}
		_ = raw
	})
}

// TestWebhookTwoWorkers: two nodes on one PostgreSQL database deliver at the same time; each
// message reaches the receiver exactly once.
func TestWebhookTwoWorkers(t *testing.T) {
	t.Parallel()
	u := pgtest.SchemaURL(t)
	open := func() tokend.Store {
		st, err := postgres.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a := newHookEnv(t, open(), tokend.Options{WebhookAllowPrivate: true, WebhookConcurrency: 4})
	b := tokend.NewService(open(), tokend.Options{WebhookAllowPrivate: true, WebhookConcurrency: 4, Now: a.clock.Now})
	ctx := t.Context()
	r := newReceiver(t)
	var mu sync.Mutex
	perID := map[string]int{}
	r.fail = func(int) int { time.Sleep(time.Millisecond); return 0 }
	a.hook(t, r, tokend.EventTokenCreated)
	const n = 40
	for i := range n {
		if _, _, err := a.svc.CreateServiceToken(ctx, a.owner, a.res.Account.ID, tokend.ServiceTokenInput{Name: "t" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, svc := range []*tokend.Service{a.svc, b} {
		wg.Go(func() {
			for range 100 {
				k, err := svc.DeliverWebhooks(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if k == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	r.mu.Lock()
	for _, g := range r.got {
		perID[g.id]++
	}
	r.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(perID) != n {
		t.Errorf("got %d distinct messages, want %d", len(perID), n)
	}
	for id, k := range perID {
		if k != 1 {
			t.Errorf("message %s delivered %d times, want once", id, k)
		}
	}
}

// TestWebhookPolicyEvents: a rotated-out token used after its overlap is a token.reused, and a
// token disabled for inactivity a token.disabled, each sent once.
func TestWebhookPolicyEvents(t *testing.T) {
	t.Parallel()
	stores(t, func(t *testing.T, st tokend.Store) {
		e := newHookEnv(t, st, tokend.Options{WebhookAllowPrivate: true})
		ctx := t.Context()
		acct := e.res.Account.ID
		r := newReceiver(t)
		e.hook(t, r, tokend.EventTokenReused, tokend.EventTokenDisabled)
		old, raw, err := e.svc.CreateServiceToken(ctx, e.owner, acct, tokend.ServiceTokenInput{Name: "ci",
			Grants: []perm.Grant{{Set: perm.JobViewer, AllProjects: true}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.RotateServiceToken(ctx, e.owner, acct, old.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, raw, "203.0.113.9"); err == nil {
			t.Fatal("a rotated-out token still works")
		}
		days := 30
		if _, err := e.svc.UpdateAccount(ctx, e.owner, acct, tokend.AccountUpdate{InactivityDays: &days}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(31 * 24 * time.Hour)
		for range 2 {
			if _, err := e.svc.DisableInactive(ctx); err != nil {
				t.Fatal(err)
			}
		}
		e.deliverAll(t)
		got := r.events()
		if len(got) < 2 || got[0] != "token.disabled" || got[len(got)-1] != "token.reused" {
			t.Fatalf("got %v, want token.disabled for each idle token and one token.reused", got)
		}
		if n := strings.Count(strings.Join(got, " "), "token.reused"); n != 1 {
			t.Errorf("got %d token.reused, want 1", n)
		}
		d, _ := r.find("token.reused")["data"].(map[string]any)
		if tok, _ := d["token"].(map[string]any); tok["uid"] != old.UID {
			t.Errorf("token.reused names %v, want the rotated-out token %s", tok, old.UID)
		}
	})
}
