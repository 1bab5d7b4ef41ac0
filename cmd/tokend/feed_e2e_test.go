package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokend/postgres/pgtest"
)

// TestServeNodesRevocation runs two tokend serve in process on one PostgreSQL database; node B
// runs with --feed-poll-only and reaches PostgreSQL through a loopback proxy the test freezes.
// With B's link frozen, a token revoked on A stops working on B within the liveness bound
// (B answers 503: it can neither trust its cache nor read the database); once the link is
// back, B refuses the token as invalid.
func TestServeNodesRevocation(t *testing.T) {
	u := pgtest.SchemaURL(t)
	proxy := pgtest.NewProxy(t, u)
	dirA := t.TempDir()
	a := startServe(t, serveConfig{storage: storageFlags{dataDir: dirA, databaseURL: u}})
	creds, err := os.ReadFile(filepath.Join(dirA, "initial-credentials"))
	if err != nil {
		t.Fatalf("A's first-start credentials: %v", err)
	}
	token := anyToken.FindString(string(creds))
	if token == "" {
		t.Fatalf("A's first-start credentials hold no PAT: %q", creds)
	}
	b := startServe(t, serveConfig{storage: storageFlags{dataDir: t.TempDir(), databaseURL: proxy.URL(u)},
		feedPollOnly: true, cacheTTL: 10 * time.Minute})
	defer proxy.Thaw() // before the servers stop, so that their last flush goes through

	// A request whose handler reads the database waits on a frozen link: a client that
	// gives up after 3 s counts it as not served (status 0).
	client := &http.Client{Timeout: 3 * time.Second}
	whoami := func() int {
		req, _ := http.NewRequest("GET", "http://"+b.addrs.api.String()+"/api/v3/whoami/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// until polls B's whoami until it answers want, at most for bound; it returns how long
	// that took.
	until := func(want int, bound time.Duration, what string) time.Duration {
		t.Helper()
		start := time.Now()
		got := 0
		for i := 0; i < 10_000 && time.Since(start) < bound; i++ {
			if got = whoami(); got == want {
				return time.Since(start)
			}
			if got == http.StatusOK && want != http.StatusOK && time.Since(start) > 6*time.Second {
				t.Fatalf("%s: B still served the revoked token %v after the revocation", what, time.Since(start))
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s: B's whoami got %d for %v, want %d", what, got, bound, want)
		return 0
	}
	until(http.StatusOK, 10*time.Second, "before the revocation")
	until(http.StatusOK, 10*time.Second, "before the revocation, from the cache")

	proxy.Freeze()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Post("http://"+a.addrs.api.String()+"/api/tokend/v1/revoke/", "application/json",
		strings.NewReader(`{"token": "`+token+`"}`))
	if err != nil {
		t.Fatalf("revoke on A: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("revoke on A: got %d, want 2xx", resp.StatusCode)
	}
	took := until(http.StatusServiceUnavailable, 15*time.Second, "B cut off from PostgreSQL")
	t.Logf("B stopped serving the revoked token %v after A's commit", took)

	proxy.Thaw()
	until(http.StatusUnauthorized, 30*time.Second, "B's link back")
}
