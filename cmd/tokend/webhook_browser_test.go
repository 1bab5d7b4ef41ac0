package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebhooksInBrowser walks the console's webhook pages in headless Chromium against the real
// binary: create an endpoint (its secret shown once), see an event delivered in its log, read
// the delivery, redeliver it, rotate the secret, delete the endpoint; each page fits a phone
// (390 px) and a laptop (1280 px).
func TestWebhooksInBrowser(t *testing.T) {
	needChromium(t)
	st := storage{"sqlite", []string{"--data-dir", t.TempDir()}}
	var owner initResult
	mustJSON(t, run(t, append([]string{"init", "--account-name", "Spice Harvesting", "--plan", "enterprise",
		"--email", "paul.atreides@example.com", "--password", browserPassword, "--json"}, st.flags...)...), &owner)
	srv := startServerWith(t, st, "--webhook-allow-private")
	var (
		hits atomic.Int64
		mu   sync.Mutex
		seen = map[string]int{} // requests per webhook-id
	)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	b := newTab(t, srv.url)
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) { b.t = t; f(t) }) {
			t.FailNow()
		}
	}
	step("sign in", func(t *testing.T) {
		b.open("/signin")
		b.do(chromedp.SendKeys(chromedp.ID("email"), "paul.atreides@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), browserPassword))
		b.submit(`form[action="/signin"] button[type="submit"]`)
	})
	var hookPath string
	step("create a webhook; its secret is shown once", func(t *testing.T) {
		b.open("/settings/tokens/personal")
		b.submit(`nav a[href="/settings/webhooks"]`)
		b.fits()
		b.submit(`a[href="/settings/webhooks/new"]`)
		b.do(chromedp.SendKeys(chromedp.ID("url"), recv.URL+"/tokend/events/for-the-security-team-on-call"),
			chromedp.SendKeys(chromedp.ID("description"), "Security on-call"),
			// Not token.new_ip: the owner's token makes its first use below, and that event
			// would race token.created to the top of the delivery log.
			chromedp.Click(chromedp.CSS(`input[name="events"][value="token.new_ip"]`)))
		b.fits()
		b.submit(`form[action="/settings/webhooks/new"] button[type="submit"]`)
		secret := b.value("#new-token")
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("the page shows %q, want a whsec_ secret", secret)
		}
		if got := b.text(".secret-card"); !strings.Contains(got, "webhook-signature") {
			t.Errorf("the secret page says %q, want how the receiver uses it", got)
		}
		b.fits()
		b.submit(`.secret-card a.btn-primary`)
		hookPath = b.path()
		if !strings.HasPrefix(hookPath, "/settings/webhooks/") {
			t.Fatalf("after the secret: at %s, want the webhook's page", hookPath)
		}
	})
	step("an event is delivered and logged", func(t *testing.T) {
		if r := call(t, "POST", fmt.Sprintf("%s/api/v3/accounts/%d/service-tokens/", srv.url, owner.AccountID), "Bearer "+owner.Token,
			`{"name": "ci"}`); r.code != http.StatusCreated {
			t.Fatalf("create service token: got %d", r.code)
		}
		for end := time.Now().Add(20 * time.Second); hits.Load() < 1 && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		}
		if hits.Load() < 1 {
			t.Fatal("the receiver got nothing in 20 s")
		}
		var got string
		for try := 0; try < 50; try++ {
			b.open(hookPath)
			if got = b.text("main"); strings.Contains(got, "Delivered") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(got, "token.created") || !strings.Contains(got, "Delivered") || strings.Contains(got, "whsec_") {
			t.Fatalf("the webhook page shows:\n%s\nwant token.created delivered, and no secret", got)
		}
		b.fits()
		b.submit(`main a.row-title[href*="/deliveries/"]`)
		if got := b.text("main"); !strings.Contains(got, "204") || !strings.Contains(got, `"type":"token.created"`) {
			t.Errorf("the delivery page shows:\n%s\nwant the 204 attempt and the body", got)
		}
		b.fits()
		before := hits.Load()
		b.submit(`main form[action$="/redeliver"] button`)
		for end := time.Now().Add(20 * time.Second); hits.Load() == before && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		}
		mu.Lock()
		twice := 0
		for _, n := range seen {
			if n == 2 {
				twice++
			}
		}
		mu.Unlock()
		if twice != 1 {
			t.Errorf("after redelivery the receiver saw %v, want one message id twice", seen)
		}
	})
	step("rotate the secret, then delete the webhook", func(t *testing.T) {
		b.open(hookPath)
		b.submit(`main form[action$="/rotate"] button`)
		if secret := b.value("#new-token"); !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("rotation shows %q, want a whsec_ secret", secret)
		}
		b.open(hookPath)
		b.submit(`main a[href$="/delete"]`)
		b.fits()
		b.submit(`main form[action$="/delete"] button[type="submit"]`)
		if got := b.text("main"); !strings.Contains(got, "No webhooks yet") {
			t.Errorf("after delete the list shows:\n%s", got)
		}
	})
}
