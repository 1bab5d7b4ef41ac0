package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"tokend"
)

// TestWebhooksAPI walks an endpoint's life through the API on both stores: created with its
// secret shown once, listed and read without it, an event delivered and logged, redelivered
// under the same message id, its secret rotated (both secrets sign for a while), deleted with
// its log.
func TestWebhooksAPI(t *testing.T) {
	t.Parallel()
	eachStoreWith(t, func(o *tokend.Options) { o.WebhookAllowPrivate = true }, func(t *testing.T, e *env) {
		owner := e.initAccount("Hooks", "owner@example.com")
		acct := owner.Account.ID
		auth := bearer(owner.Token)
		base := fmt.Sprintf("/api/tokend/v1/accounts/%d/webhooks/", acct)

		var mu sync.Mutex
		var sigs, ids []string
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			mu.Lock()
			sigs = append(sigs, r.Header.Get("webhook-signature"))
			ids = append(ids, r.Header.Get("webhook-id"))
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}))
		defer recv.Close()

		type hook struct {
			ID       int64    `json:"id"`
			URL      string   `json:"url"`
			Events   []string `json:"events"`
			Active   bool     `json:"active"`
			Secret   *string  `json:"secret"`
			Previous *string  `json:"previous_secret_expires_at"`
		}
		res := e.do("POST", base, auth, fmt.Sprintf(`{"url": %q, "events": ["token.created", "token.revoked"], "description": "ops"}`,
			recv.URL+"/in?key=abc"))
		if res.Code != http.StatusCreated {
			t.Fatalf("create: got %d %s, want 201", res.Code, res.Raw)
		}
		var created hook
		res.data(t, &created)
		if created.Secret == nil || !strings.HasPrefix(*created.Secret, "whsec_") || !created.Active || len(created.Events) != 2 {
			t.Fatalf("create: got %+v, want an active endpoint with its whsec_ secret", created)
		}
		var got hook
		e.do("GET", fmt.Sprintf("%s%d/", base, created.ID), auth, "").data(t, &got)
		if got.Secret != nil || got.URL != created.URL {
			t.Errorf("get: got %+v, want it without the secret", got)
		}
		if strings.Contains(string(e.do("GET", base, auth, "").Raw), *created.Secret) {
			t.Error("the list shows the secret")
		}
		for _, body := range []string{`{"url": "ftp://x"}`, `{"events": ["token.nope"]}`, `{"events": []}`, `{"secret": "whsec_x"}`} {
			if res := e.do("PUT", fmt.Sprintf("%s%d/", base, created.ID), auth, body); res.Code != http.StatusBadRequest {
				t.Errorf("update %s: got %d, want 400", body, res.Code)
			}
		}

		// An event, delivered and logged.
		if res := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/service-tokens/", acct), auth, `{"name": "ci"}`); res.Code != http.StatusCreated {
			t.Fatalf("create service token: got %d %s", res.Code, res.Raw)
		}
		if n, err := e.svc.DeliverWebhooks(t.Context()); err != nil || n != 1 {
			t.Fatalf("deliver: got %d (%v), want 1", n, err)
		}
		type delivery struct {
			ID         int64  `json:"id"`
			MessageID  string `json:"message_id"`
			Event      string `json:"event"`
			State      string `json:"state"`
			Attempts   int    `json:"attempts"`
			LastStatus *int   `json:"last_status_code"`
			AttemptLog []struct {
				Attempt    int    `json:"attempt"`
				StatusCode *int   `json:"status_code"`
				Error      string `json:"error"`
			} `json:"attempt_log"`
			Payload map[string]any `json:"payload"`
		}
		var log []delivery
		e.do("GET", fmt.Sprintf("%s%d/deliveries/", base, created.ID), auth, "").data(t, &log)
		if len(log) != 1 || log[0].State != "delivered" || log[0].Event != "token.created" || log[0].Attempts != 1 ||
			log[0].LastStatus == nil || *log[0].LastStatus != 200 || log[0].MessageID != ids[0] {
			t.Fatalf("deliveries: got %+v, want one delivered token.created", log)
		}
		var one delivery
		e.do("GET", fmt.Sprintf("%s%d/deliveries/%d/", base, created.ID, log[0].ID), auth, "").data(t, &one)
		if len(one.AttemptLog) != 1 || *one.AttemptLog[0].StatusCode != 200 || one.Payload["type"] != "token.created" {
			t.Errorf("delivery: got %+v, want its payload and one attempt", one)
		}
		if res := e.do("POST", fmt.Sprintf("%s%d/deliveries/%d/redeliver/", base, created.ID, log[0].ID), auth, ""); res.Code != http.StatusAccepted {
			t.Fatalf("redeliver: got %d %s, want 202", res.Code, res.Raw)
		}

		// Rotation: the new secret is shown once; both sign until the old one's day is over.
		var rotated hook
		e.do("POST", fmt.Sprintf("%s%d/rotate-secret/", base, created.ID), auth, "").data(t, &rotated)
		if rotated.Secret == nil || *rotated.Secret == *created.Secret || rotated.Previous == nil {
			t.Fatalf("rotate: got %+v, want a new secret and when the old one stops", rotated)
		}
		if n, err := e.svc.DeliverWebhooks(t.Context()); err != nil || n != 1 {
			t.Fatalf("redeliver: got %d (%v), want 1", n, err)
		}
		mu.Lock()
		if len(ids) != 2 || ids[1] != ids[0] || len(strings.Fields(sigs[1])) != 2 {
			t.Errorf("redelivery: got ids %v and signatures %q, want the same id, signed with both secrets", ids, sigs)
		}
		mu.Unlock()

		// Another account sees nothing of it.
		other := e.initAccount("Other", "other@example.com")
		if res := e.do("GET", fmt.Sprintf("/api/tokend/v1/accounts/%d/webhooks/%d/", other.Account.ID, created.ID), bearer(other.Token), ""); res.Code != http.StatusNotFound {
			t.Errorf("another account's endpoint: got %d, want 404", res.Code)
		}

		if code, body := e.doNoBody("DELETE", fmt.Sprintf("%s%d/", base, created.ID), auth); code != http.StatusNoContent {
			t.Fatalf("delete: got %d %s", code, body)
		}
		if res := e.do("GET", fmt.Sprintf("%s%d/deliveries/%d/", base, created.ID, log[0].ID), auth, ""); res.Code != http.StatusNotFound {
			t.Errorf("a deleted endpoint's delivery: got %d, want 404", res.Code)
		}
		actions := strings.Join(auditActions(t, e, acct), " ")
		for _, a := range []string{"webhook.create", "webhook.redeliver", "webhook.rotate_secret", "webhook.delete"} {
			if !strings.Contains(actions, a) {
				t.Errorf("audit log %q lacks %s", actions, a)
			}
		}
	})
}

// TestWebhooksRefusePrivateByDefault: without --webhook-allow-private, loopback is refused.
func TestWebhooksRefusePrivateByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.initAccount("Hooks", "owner@example.com")
	for _, u := range []string{"https://127.0.0.1:9/", "http://hooks.example.com/", "https://[::ffff:10.0.0.1]/"} {
		res := e.do("POST", fmt.Sprintf("/api/tokend/v1/accounts/%d/webhooks/", owner.Account.ID), bearer(owner.Token),
			fmt.Sprintf(`{"url": %q}`, u))
		if res.Code != http.StatusBadRequest {
			t.Errorf("%s: got %d %s, want 400", u, res.Code, res.Raw)
		}
	}
}
