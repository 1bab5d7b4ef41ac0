package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"tokend"
	"tokend/perm"
)

// TestWebhookPages: create an endpoint (its secret shown once, through post, redirect, get),
// see an event in its delivery log, redeliver it, read it, rotate the secret, pause it, delete
// it; a member without the rights gets 403.
func TestWebhookPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser(t)
	b.mustSignIn("paul@example.com", ownerPassword)
	if r := b.get("/settings/webhooks"); r.status != http.StatusOK || !strings.Contains(r.body, "No webhooks yet") {
		t.Fatalf("empty list: got %d\n%s", r.status, r.body)
	}
	form := b.get("/settings/webhooks/new")
	if form.status != http.StatusOK || !strings.Contains(form.body, `value="token.new_ip" checked`) {
		t.Fatalf("new webhook form: got %d, want every event ticked\n%s", form.status, form.body)
	}
	tok := csrf(t, form.body)
	for _, tt := range []struct {
		name string
		form url.Values
		want string
	}{
		{"plain http", url.Values{"csrf": {tok}, "url": {"http://hooks.example.com/in"}, "events": {"token.created"}}, "https://"},
		{"loopback", url.Values{"csrf": {tok}, "url": {"https://127.0.0.1/in"}, "events": {"token.created"}}, "loopback"},
		{"no event", url.Values{"csrf": {tok}, "url": {"https://hooks.example.com/in"}}, "at least one event"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post("/settings/webhooks/new", tt.form)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tt.want) {
				t.Errorf("got %d, want 400 saying %q\n%s", r.status, tt.want, r.body)
			}
		})
	}
	valid := url.Values{"csrf": {tok}, "url": {"https://hooks.example.com/in?k=1"}, "description": {"Security on-call"},
		"events": {"token.created", "token.leaked"}}
	shown := b.postShown("/settings/webhooks/new", valid)
	if shown.status != http.StatusOK || !strings.Contains(shown.body, "whsec_") || !strings.Contains(shown.body, "webhook-signature") {
		t.Fatalf("create: got %d, want the signing secret shown\n%s", shown.status, shown.body)
	}
	p, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := e.svc.ListWebhooks(ctx, p, e.account.ID)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks: got %d (%v), want 1", len(hooks), err)
	}
	h := hooks[0]
	// html/template writes + and / of the base64 as entities in the input's value.
	if !strings.Contains(html.UnescapeString(shown.body), h.Secret) {
		t.Error("the page shows another secret than the endpoint's")
	}
	list := b.get("/settings/webhooks")
	if !strings.Contains(list.body, "hooks.example.com/in") || !strings.Contains(list.body, "token.leaked") || strings.Contains(html.UnescapeString(list.body), h.Secret) {
		t.Errorf("list: want the URL and events and never the secret\n%s", list.body)
	}

	// An event shows in the log; it can be redelivered and read.
	if _, _, err := e.svc.CreateServiceToken(ctx, p, e.account.ID, tokend.ServiceTokenInput{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	detail := "/settings/webhooks/" + itoa(int64(h.ID))
	page := b.get(detail)
	if page.status != http.StatusOK || !strings.Contains(page.body, "token.created") || !strings.Contains(page.body, "Not tried yet") ||
		strings.Contains(html.UnescapeString(page.body), h.Secret) {
		t.Fatalf("detail: got %d, want the pending token.created\n%s", page.status, page.body)
	}
	ms, _, err := e.svc.WebhookDeliveries(ctx, p, e.account.ID, h.ID, "", tokend.Page{})
	if err != nil || len(ms) != 1 {
		t.Fatalf("deliveries: got %d (%v)", len(ms), err)
	}
	tok = csrf(t, page.body)
	if r := b.post(detail+"/deliveries/"+itoa(ms[0].ID)+"/redeliver", url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther ||
		!strings.Contains(r.header.Get("Location"), "webhook_redelivered") {
		t.Errorf("redeliver: got %d to %q", r.status, r.header.Get("Location"))
	}
	if r := b.get(detail + "/deliveries/" + itoa(ms[0].ID)); r.status != http.StatusOK || !strings.Contains(r.body, ms[0].UID) ||
		!strings.Contains(r.body, "&#34;type&#34;:&#34;token.created&#34;") {
		t.Errorf("delivery page: got %d, want its message id and body\n%s", r.status, r.body)
	}

	// Rotation shows the new secret once; pausing and deleting.
	rotated := b.postShown(detail+"/rotate", url.Values{"csrf": {tok}})
	if rotated.status != http.StatusOK || !strings.Contains(rotated.body, "previous secret signs") {
		t.Errorf("rotate: got %d, want the new secret and the overlap\n%s", rotated.status, rotated.body)
	}
	after, err := e.svc.Webhook(ctx, p, e.account.ID, h.ID)
	if err != nil || after.Secret == h.Secret || !strings.Contains(html.UnescapeString(rotated.body), after.Secret) {
		t.Errorf("rotate: the endpoint's secret did not change to the one shown (%v)", err)
	}
	if r := b.post(detail+"/active", url.Values{"csrf": {tok}, "active": {"false"}}); r.status != http.StatusSeeOther {
		t.Errorf("pause: got %d", r.status)
	}
	if r := b.get(detail); !strings.Contains(r.body, "Paused") || !strings.Contains(r.body, "Resume") {
		t.Errorf("after pausing, the page shows no pause\n%s", r.body)
	}
	if r := b.get(detail + "/delete"); r.status != http.StatusOK || !strings.Contains(r.body, "Confirm delete") {
		t.Errorf("delete page: got %d", r.status)
	}
	if r := b.post(detail+"/delete", url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther {
		t.Errorf("delete: got %d", r.status)
	}
	if r := b.get("/settings/webhooks?done=webhook_deleted"); !strings.Contains(r.body, "No webhooks yet") || !strings.Contains(r.body, "was deleted") {
		t.Errorf("after delete: want the empty list and the message\n%s", r.body)
	}

	// A developer without admin rights sees no Webhooks entry and is refused.
	e.addUser(t, "dev@example.com", perm.LicenseDeveloper)
	dev := e.browser(t)
	dev.mustSignIn("dev@example.com", ownerPassword)
	if r := dev.get("/settings/tokens/personal"); strings.Contains(r.body, `href="/settings/webhooks"`) {
		t.Error("a developer without the rights is offered the Webhooks page")
	}
	if r := dev.get("/settings/webhooks"); r.status != http.StatusForbidden {
		t.Errorf("developer lists webhooks: got %d, want 403", r.status)
	}
}

// A user who may not manage webhooks is refused their pages and their writes, and no endpoint
// is made; an owner's endpoint stays out of their sight.
func TestWebhookPagesRefuseOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.addUser(t, "reader@example.com", perm.LicenseReadOnly)
	owner := e.browser(t)
	owner.mustSignIn("paul@example.com", ownerPassword)
	tok := csrf(t, owner.get("/settings/webhooks/new").body)
	made := owner.postShown("/settings/webhooks/new", url.Values{"csrf": {tok}, "url": {"https://hooks.example.com/in"},
		"events": {"token.created"}})
	if made.status != http.StatusOK {
		t.Fatalf("owner's create: got %d\n%s", made.status, made.body)
	}
	op, err := e.svc.SessionPrincipal(ctx, e.owner.ID, e.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := e.svc.ListWebhooks(ctx, op, e.account.ID)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("owner's endpoints: %v, %d", err, len(hooks))
	}
	detail := "/settings/webhooks/" + strconv.FormatInt(int64(hooks[0].ID), 10)

	b := e.browser(t)
	b.mustSignIn("reader@example.com", ownerPassword)
	for _, path := range []string{"/settings/webhooks", detail, detail + "/delete"} {
		if r := b.get(path); r.status != http.StatusForbidden {
			t.Errorf("GET %s: got %d, want 403", path, r.status)
		}
	}
	tok = csrf(t, b.get("/settings/webhooks/new").body)
	for _, path := range []string{"/settings/webhooks/new", detail + "/rotate", detail + "/active", detail + "/delete"} {
		r := b.post(path, url.Values{"csrf": {tok}, "url": {"https://hooks.example.com/other"}, "events": {"token.created"}})
		if r.status != http.StatusForbidden {
			t.Errorf("POST %s: got %d, want 403", path, r.status)
		}
	}
	after, err := e.svc.ListWebhooks(ctx, op, e.account.ID)
	if err != nil || len(after) != 1 || after[0].Secret != hooks[0].Secret || after[0].Disabled {
		t.Errorf("the reader's posts changed the endpoints: %v, %+v", err, after)
	}
}
