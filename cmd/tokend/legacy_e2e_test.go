package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLegacyKeysReport drives the retirement of a legacy key with the real binary: refused by
// default, working in a migration window, and reported — after a clean shutdown has flushed
// the uses — by `tokend legacy-keys report`.
func TestLegacyKeysReport(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var owner initResult
			out := run(t, append([]string{"init", "--account-name", "Old Habits", "--plan", "enterprise",
				"--email", "habit@example.com", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &owner); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, st)
			r := call(t, "POST", fmt.Sprintf("%s/api/v2/users/%d/apikey/", srv.url, owner.UserID), "Token "+owner.Token, "")
			var k struct {
				Key string `json:"key"`
			}
			if err := json.Unmarshal(r.Data, &k); err != nil || len(k.Key) != 40 {
				t.Fatalf("rotate key: got %d %s", r.code, r.Data)
			}
			if r := call(t, "GET", srv.url+"/api/v2/accounts/", "Token "+k.Key, ""); r.code != 401 || !strings.Contains(r.Status.UserMessage, "deprecated") {
				t.Errorf("default: got %d %q, want the deprecation 401", r.code, r.Status.UserMessage)
			}
			until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			if r := call(t, "POST", fmt.Sprintf("%s/api/v2/accounts/%d/", srv.url, owner.AccountID), "Token "+owner.Token,
				fmt.Sprintf(`{"tokend_settings": {"legacy_keys_until": %q}}`, until)); r.code != 200 {
				t.Fatalf("open window: got %d", r.code)
			}
			for range 3 {
				if r := call(t, "GET", fmt.Sprintf("%s/api/v3/accounts/%d/projects/", srv.url, owner.AccountID), "Token "+k.Key, ""); r.code != 200 {
					t.Fatalf("in the window: got %d, want 200", r.code)
				}
			}
			srv.stop(t) // flushes the recorded uses

			out = run(t, append([]string{"legacy-keys", "report", "--account", fmt.Sprint(owner.AccountID)}, st.flags...)...)
			for _, want := range []string{"habit@example.com", "GET /api/v3/accounts/{account_id}/projects/", "127.0.0.1", "  3  ", "a service token with"} {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, k.Key) {
				t.Errorf("the report prints the key")
			}
		})
	}
}
