package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestCLIWebhooks drives `tokend webhook` against a real server on both stores: create (the
// secret shown once), list, get, update, a delivery seen in the log, redelivery, secret
// rotation, delete (asking first), and the usage errors.
func TestCLIWebhooks(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var a initResult
			out := run(t, append([]string{"init", "--account-name", "Hooks", "--email", "ops@example.com",
				"--password", "a long enough password", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Fatal(err)
			}
			srv := startServerWith(t, st, "--webhook-allow-private")
			env := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_URL=" + srv.url, "TOKEND_TOKEN=" + a.Token}
			var hits atomic.Int64
			// Only token.created counts: the CLI's own first use of the owner's token is a
			// token.new_ip, which the endpoint takes while it is still subscribed to every event.
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if strings.Contains(string(body), `"type":"token.created"`) {
					hits.Add(1)
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer recv.Close()

			type hook struct {
				ID     int64    `json:"id"`
				URL    string   `json:"url"`
				Events []string `json:"events"`
				Active bool     `json:"active"`
				Secret string   `json:"secret"`
			}
			var h hook
			if err := json.Unmarshal([]byte(mustCLI(t, env, "webhook", "create", recv.URL+"/in", "--description", "ops", "--json")), &h); err != nil ||
				!strings.HasPrefix(h.Secret, "whsec_") || len(h.Events) != 8 || !h.Active {
				t.Fatalf("webhook create: got %+v (%v), want an active endpoint on every event with its secret", h, err)
			}
			if out := mustCLI(t, env, "webhook", "create", recv.URL+"/two", "--event", "token.leaked"); !strings.Contains(out, "only time the signing secret is shown") ||
				!strings.Contains(out, "whsec_") {
				t.Errorf("webhook create printed %q, want the secret, said to be shown once", out)
			}
			if out := mustCLI(t, env, "webhook", "list"); !strings.Contains(out, recv.URL+"/in") || strings.Contains(out, "whsec_") {
				t.Errorf("webhook list printed %q, want the URLs and no secret", out)
			}
			var got hook
			if err := json.Unmarshal([]byte(mustCLI(t, env, "webhook", "get", fmt.Sprint(h.ID), "--json")), &got); err != nil || got.Secret != "" || got.URL != h.URL {
				t.Errorf("webhook get: got %+v (%v), want it without the secret", got, err)
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "webhook", "update", fmt.Sprint(h.ID), "--event", "token.created", "--json")), &got); err != nil ||
				len(got.Events) != 1 || got.Events[0] != "token.created" {
				t.Errorf("webhook update: got %+v (%v), want only token.created", got, err)
			}

			// An event: the log shows it delivered.
			mustCLI(t, env, "service-token", "create", "--name", "ci", "--grant", "job_viewer")
			type delivery struct {
				ID         int64  `json:"id"`
				MessageID  string `json:"message_id"`
				Event      string `json:"event"`
				State      string `json:"state"`
				LastStatus *int   `json:"last_status_code"`
			}
			var ds []delivery
			for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
				var all []delivery
				if err := json.Unmarshal([]byte(mustCLI(t, env, "webhook", "deliveries", fmt.Sprint(h.ID), "--json")), &all); err != nil {
					t.Fatal(err)
				}
				ds = ds[:0]
				for _, d := range all {
					if d.Event != "token.new_ip" { // see the receiver
						ds = append(ds, d)
					}
				}
				if len(ds) == 1 && ds[0].State == "delivered" {
					break
				}
			}
			if len(ds) != 1 || ds[0].State != "delivered" || ds[0].Event != "token.created" || *ds[0].LastStatus != 204 {
				t.Fatalf("webhook deliveries: got %+v, want one delivered token.created", ds)
			}
			if out := mustCLI(t, env, "webhook", "deliveries", fmt.Sprint(h.ID), fmt.Sprint(ds[0].ID)); !strings.Contains(out, ds[0].MessageID) ||
				!strings.Contains(out, "204") {
				t.Errorf("webhook deliveries ID DELIVERY printed %q, want the message and its attempt", out)
			}
			if out := mustCLI(t, env, "webhook", "redeliver", fmt.Sprint(h.ID), fmt.Sprint(ds[0].ID)); !strings.Contains(out, ds[0].MessageID) {
				t.Errorf("webhook redeliver printed %q, want the message id", out)
			}
			for end := time.Now().Add(20 * time.Second); hits.Load() < 2 && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			}
			if hits.Load() != 2 {
				t.Errorf("receiver got %d requests, want 2 (the event and its redelivery)", hits.Load())
			}
			var rotated hook
			if err := json.Unmarshal([]byte(mustCLI(t, env, "webhook", "rotate-secret", fmt.Sprint(h.ID), "--json")), &rotated); err != nil ||
				!strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == h.Secret {
				t.Errorf("webhook rotate-secret: got %+v (%v), want a new secret", rotated, err)
			}

			// Usage errors exit 2; delete asks first.
			for _, args := range [][]string{{"webhook", "get", "x"}, {"webhook", "create"}, {"webhook", "update", "1"},
				{"webhook", "deliveries", "1", "--state", "lost"}, {"webhook", "delete", fmt.Sprint(h.ID)}} {
				if r := cli(t, "", env, args...); exitStatus(r.err) != exitUsage {
					t.Errorf("tokend %s: got exit %d (%s), want %d", strings.Join(args, " "), exitStatus(r.err), r.stderr, exitUsage)
				}
			}
			if r := cli(t, "", env, "webhook", "get", "999999"); exitStatus(r.err) != exitError {
				t.Errorf("webhook get of a missing id: got exit %d, want %d", exitStatus(r.err), exitError)
			}
			var del struct {
				Deleted bool `json:"deleted"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "webhook", "delete", fmt.Sprint(h.ID), "--yes", "--json")), &del); err != nil || !del.Deleted {
				t.Errorf("webhook delete --yes: got %+v (%v)", del, err)
			}
		})
	}
}
