package storetest

import (
	"slices"
	"testing"
	"time"

	"tokend"
)

func mustWebhook(tb testing.TB, st tokend.Store, accountID tokend.AccountID) *tokend.WebhookEndpoint {
	tb.Helper()
	w := &tokend.WebhookEndpoint{AccountID: accountID, URL: "https://hooks.example.com/" + unique(),
		Events: []string{tokend.EventTokenCreated, tokend.EventTokenRevoked}, Secret: "whsec_" + unique(),
		CreatedAt: base, UpdatedAt: base}
	must(tb, st.CreateWebhookEndpoint(tb.Context(), w), "CreateWebhookEndpoint")
	return w
}

func newMessage(w *tokend.WebhookEndpoint, due time.Time) *tokend.WebhookMessage {
	return &tokend.WebhookMessage{UID: "msg_" + unique(), AccountID: w.AccountID, EndpointID: w.ID,
		Event: tokend.EventTokenCreated, Payload: []byte(`{"type":"token.created"}`), State: tokend.WebhookPending,
		NextAttemptAt: due, RetryUntil: due.Add(24 * time.Hour), CreatedAt: due, UpdatedAt: due}
}

func messageIDs(ms []*tokend.WebhookMessage) []int64 {
	return ids(ms, func(m *tokend.WebhookMessage) int64 { return m.ID })
}

func testWebhookEndpoints(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a, other := mustAccount(t, st), mustAccount(t, st)
	w := mustWebhook(t, st, a.ID)
	mustWebhook(t, st, other.ID)

	got, err := st.WebhookEndpoint(ctx, a.ID, w.ID)
	must(t, err, "WebhookEndpoint")
	if got.URL != w.URL || got.Secret != w.Secret || !slices.Equal(got.Events, w.Events) || got.Disabled ||
		!got.CreatedAt.Equal(base) || !got.PreviousUntil.IsZero() {
		t.Errorf("got %+v, want %+v", got, w)
	}
	_, err = st.WebhookEndpoint(ctx, other.ID, w.ID)
	wantCode(t, err, tokend.ENotFound, "another account's endpoint")

	w.URL, w.Description, w.Events, w.Disabled = "https://other.example.com/h", "ops", []string{tokend.EventTokenLeaked}, true
	w.PreviousSecret, w.PreviousUntil, w.Secret, w.UpdatedAt = w.Secret, at(time.Hour), "whsec_new", at(time.Minute)
	must(t, st.UpdateWebhookEndpoint(ctx, w), "UpdateWebhookEndpoint")
	got, err = st.WebhookEndpoint(ctx, a.ID, w.ID)
	must(t, err, "WebhookEndpoint")
	if got.URL != w.URL || got.Description != "ops" || !slices.Equal(got.Events, w.Events) || !got.Disabled ||
		got.Secret != "whsec_new" || got.PreviousSecret != w.PreviousSecret || !got.PreviousUntil.Equal(at(time.Hour)) {
		t.Errorf("after update: got %+v, want %+v", got, w)
	}
	moved := *w
	moved.AccountID = other.ID
	wantCode(t, st.UpdateWebhookEndpoint(ctx, &moved), tokend.ENotFound, "update through another account")
	wantCode(t, st.DeleteWebhookEndpoint(ctx, other.ID, w.ID), tokend.ENotFound, "delete through another account")

	second := mustWebhook(t, st, a.ID)
	list, err := st.ListWebhookEndpoints(ctx, a.ID)
	must(t, err, "ListWebhookEndpoints")
	if got, want := ids(list, func(w *tokend.WebhookEndpoint) tokend.WebhookID { return w.ID }), []tokend.WebhookID{w.ID, second.ID}; !slices.Equal(got, want) {
		t.Errorf("list: got %v, want %v", got, want)
	}

	// Contract: deleting an endpoint deletes its messages and their attempts.
	m := newMessage(w, base)
	must(t, st.CreateWebhookMessages(ctx, []*tokend.WebhookMessage{m}), "CreateWebhookMessages")
	must(t, st.DeleteWebhookEndpoint(ctx, a.ID, w.ID), "DeleteWebhookEndpoint")
	_, err = st.WebhookMessage(ctx, a.ID, w.ID, m.ID)
	wantCode(t, err, tokend.ENotFound, "a deleted endpoint's message")
	claimed, err := st.ClaimWebhookMessages(ctx, at(time.Hour), at(2*time.Hour), 1, 10)
	must(t, err, "ClaimWebhookMessages")
	if len(claimed) != 0 {
		t.Errorf("claimed %v after the endpoint was deleted, want none", messageIDs(claimed))
	}
}

func testWebhookOutbox(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	w := mustWebhook(t, st, a.ID)
	early, late, later := newMessage(w, base), newMessage(w, at(time.Minute)), newMessage(w, at(time.Hour))
	must(t, st.CreateWebhookMessages(ctx, []*tokend.WebhookMessage{late, early, later}), "CreateWebhookMessages")
	if early.ID == 0 || late.ID == 0 {
		t.Fatal("CreateWebhookMessages set no ids")
	}

	// Due at base+1m: early and late, earliest first; the claim sets the lease.
	got, err := st.ClaimWebhookMessages(ctx, at(time.Minute), at(2*time.Minute), 7, 10)
	must(t, err, "ClaimWebhookMessages")
	if want := []int64{early.ID, late.ID}; !slices.Equal(messageIDs(got), want) {
		t.Fatalf("first claim: got %v, want %v", messageIDs(got), want)
	}
	if g := got[0]; g.Lease != 7 || !g.ClaimedUntil.Equal(at(2*time.Minute)) || g.UID != early.UID ||
		string(g.Payload) != string(early.Payload) || g.State != tokend.WebhookPending || !g.RetryUntil.Equal(early.RetryUntil) {
		t.Errorf("claimed message: got %+v, want lease 7 until %v", g, at(2*time.Minute))
	}
	// Contract: a message stays claimed until its claim ends, then any worker may take it.
	got, err = st.ClaimWebhookMessages(ctx, at(90*time.Second), at(3*time.Minute), 8, 10)
	must(t, err, "ClaimWebhookMessages")
	if len(got) != 0 {
		t.Errorf("claim while claimed: got %v, want none", messageIDs(got))
	}
	got, err = st.ClaimWebhookMessages(ctx, at(2*time.Minute), at(3*time.Minute), 9, 1)
	must(t, err, "ClaimWebhookMessages")
	if want := []int64{early.ID}; !slices.Equal(messageIDs(got), want) {
		t.Fatalf("claim after the lease: got %v, want %v (limit 1)", messageIDs(got), want)
	}

	// The first worker's claim lapsed: its record writes the attempt but not the message.
	stale := *early
	stale.Lease, stale.State, stale.Attempts = 7, tokend.WebhookDelivered, 1
	a1 := &tokend.WebhookAttempt{MessageID: early.ID, EndpointID: w.ID, AccountID: a.ID, Attempt: 1, At: at(time.Minute),
		StatusCode: 200, Duration: 1500 * time.Microsecond}
	wantCode(t, st.RecordWebhookAttempt(ctx, &stale, a1), tokend.ENotFound, "record under a lapsed lease")
	cur := got[0]
	cur.Attempts, cur.LastStatus, cur.LastError = 2, 500, "the endpoint answered 500 Internal Server Error"
	cur.NextAttemptAt, cur.UpdatedAt = at(10*time.Minute), at(2*time.Minute)
	a2 := &tokend.WebhookAttempt{MessageID: early.ID, EndpointID: w.ID, AccountID: a.ID, Attempt: 2, At: at(2 * time.Minute),
		StatusCode: 500, Duration: 3 * time.Millisecond, Error: cur.LastError}
	must(t, st.RecordWebhookAttempt(ctx, cur, a2), "RecordWebhookAttempt")
	back, err := st.WebhookMessage(ctx, a.ID, w.ID, early.ID)
	must(t, err, "WebhookMessage")
	if back.State != tokend.WebhookPending || back.Attempts != 2 || back.LastStatus != 500 || back.LastError != cur.LastError ||
		!back.NextAttemptAt.Equal(at(10*time.Minute)) || !back.ClaimedUntil.IsZero() {
		t.Errorf("after the attempt: got %+v, want pending, 2 attempts, due at +10m, unclaimed", back)
	}
	as, err := st.WebhookAttempts(ctx, a.ID, early.ID)
	must(t, err, "WebhookAttempts")
	if len(as) != 2 || as[0].Attempt != 1 || as[0].StatusCode != 200 || as[0].Duration != 1500*time.Microsecond ||
		as[1].Error != cur.LastError || !as[1].At.Equal(at(2*time.Minute)) {
		t.Errorf("attempts: got %+v, want both, oldest first", as)
	}
	as, err = st.WebhookAttempts(ctx, a.ID+1, early.ID)
	must(t, err, "WebhookAttempts")
	if len(as) != 0 {
		t.Errorf("attempts through another account: got %d, want 0", len(as))
	}

	// Redelivery: refused while claimed, then it queues the message again. (late, claimed at
	// first and never recorded, is free again too.)
	got, err = st.ClaimWebhookMessages(ctx, at(10*time.Minute), at(11*time.Minute), 10, 10)
	must(t, err, "ClaimWebhookMessages")
	if want := []int64{late.ID, early.ID}; !slices.Equal(messageIDs(got), want) {
		t.Fatalf("claim at +10m: got %v, want %v", messageIDs(got), want)
	}
	got = got[1:]
	re := *back
	re.NextAttemptAt, re.RetryUntil, re.UpdatedAt = at(10*time.Minute), at(34*time.Hour), at(10*time.Minute)
	wantCode(t, st.RequeueWebhookMessage(ctx, &re, at(10*time.Minute)), tokend.EConflict, "requeue while claimed")
	got[0].State, got[0].Attempts, got[0].UpdatedAt = tokend.WebhookFailed, 3, at(10*time.Minute)
	must(t, st.RecordWebhookAttempt(ctx, got[0], &tokend.WebhookAttempt{MessageID: early.ID, EndpointID: w.ID, AccountID: a.ID,
		Attempt: 3, At: at(10 * time.Minute), Error: "no answer within 10s"}), "RecordWebhookAttempt")
	must(t, st.RequeueWebhookMessage(ctx, &re, at(11*time.Minute)), "RequeueWebhookMessage")
	back, err = st.WebhookMessage(ctx, a.ID, w.ID, early.ID)
	must(t, err, "WebhookMessage")
	if back.State != tokend.WebhookPending || !back.RetryUntil.Equal(at(34*time.Hour)) || back.UID != early.UID {
		t.Errorf("after requeue: got %+v, want pending again under the same uid", back)
	}

	// Lists: newest first, by state, and through the account only.
	list, total, err := st.ListWebhookMessages(ctx, tokend.WebhookMessageFilter{AccountID: a.ID, EndpointID: w.ID})
	must(t, err, "ListWebhookMessages")
	if want := []int64{later.ID, early.ID, late.ID}; total != 3 || !slices.Equal(messageIDs(list), want) {
		t.Errorf("list: got %v (total %d), want %v", messageIDs(list), total, want)
	}
	list, total, err = st.ListWebhookMessages(ctx, tokend.WebhookMessageFilter{AccountID: a.ID + 1, EndpointID: w.ID})
	must(t, err, "ListWebhookMessages")
	if total != 0 || len(list) != 0 {
		t.Errorf("list through another account: got %d, want 0", total)
	}

	// Pruning deletes finished messages created before the cutoff only.
	late.State = tokend.WebhookDelivered
	got, err = st.ClaimWebhookMessages(ctx, at(2*time.Hour), at(3*time.Hour), 11, 10)
	must(t, err, "ClaimWebhookMessages")
	for _, m := range got {
		if m.ID == late.ID {
			m.State, m.Attempts = tokend.WebhookDelivered, 1
			must(t, st.RecordWebhookAttempt(ctx, m, &tokend.WebhookAttempt{MessageID: m.ID, EndpointID: w.ID, AccountID: a.ID,
				Attempt: 1, At: at(2 * time.Hour), StatusCode: 204}), "RecordWebhookAttempt")
		}
	}
	n, err := st.DeleteWebhookMessages(ctx, at(time.Hour))
	must(t, err, "DeleteWebhookMessages")
	if n != 1 {
		t.Errorf("pruned %d, want 1 (the delivered one)", n)
	}
	_, err = st.WebhookMessage(ctx, a.ID, w.ID, late.ID)
	wantCode(t, err, tokend.ENotFound, "a pruned message")
}

func testTokenNotices(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u := mustUser(t, st)
	day := 24 * time.Hour
	expiring := func(lifetime time.Duration) *tokend.Token {
		tk := newServiceToken(a.ID, u.ID)
		tk.ExpiresAt = base.Add(lifetime)
		return mustToken(t, st, tk)
	}
	expiring(60 * day)          // expires past the window
	short := expiring(10 * day) // base+10d; lived 10 days
	soon := expiring(40 * day)  // base+40d
	pat := newPAT(a.ID, u.ID)   // expires at base+50d
	pat.ExpiresAt = base.Add(50 * day)
	mustToken(t, st, pat)
	mustToken(t, st, newServiceToken(a.ID, u.ID)) // never expires
	deleted := expiring(45 * day)
	deleted.State = tokend.StateDeleted
	must(t, st.UpdateToken(ctx, deleted.AccountID, deleted), "UpdateToken")

	now := base.Add(25 * day)
	f := tokend.NoticeFilter{Event: tokend.EventTokenExpiring, Threshold: 30, ExpiresAfter: now, ExpiresBy: now.Add(30 * day),
		MinLifetime: 30 * day, Limit: 10}
	got, err := st.TokensForNotice(ctx, f)
	must(t, err, "TokensForNotice")
	// short expired already (and lived less than 30 days), long expires past now+30d, deleted
	// and never are out.
	if want := []tokend.TokenID{soon.ID, pat.ID}; !slices.Equal(ids(got, tokenID), want) {
		t.Errorf("30-day notices: got %v, want %v", ids(got, tokenID), want)
	}
	ok, err := st.AddTokenNotice(ctx, soon.ID, f.Event, 30, now)
	must(t, err, "AddTokenNotice")
	again, err := st.AddTokenNotice(ctx, soon.ID, f.Event, 30, now)
	must(t, err, "AddTokenNotice")
	if !ok || again {
		t.Errorf("AddTokenNotice: got %v then %v, want true then false", ok, again)
	}
	other, err := st.AddTokenNotice(ctx, soon.ID, f.Event, 7, now)
	must(t, err, "AddTokenNotice")
	if !other {
		t.Error("a notice at another threshold: got false, want true")
	}
	got, err = st.TokensForNotice(ctx, f)
	must(t, err, "TokensForNotice")
	if want := []tokend.TokenID{pat.ID}; !slices.Equal(ids(got, tokenID), want) {
		t.Errorf("after a notice: got %v, want %v", ids(got, tokenID), want)
	}
	expired := tokend.NoticeFilter{Event: tokend.EventTokenExpired, ExpiresAfter: now.Add(-20 * day), ExpiresBy: now, Limit: 10}
	got, err = st.TokensForNotice(ctx, expired)
	must(t, err, "TokensForNotice")
	if want := []tokend.TokenID{short.ID}; !slices.Equal(ids(got, tokenID), want) {
		t.Errorf("expired: got %v, want %v", ids(got, tokenID), want)
	}
}

func testTokenAddresses(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u := mustUser(t, st)
	tk := mustToken(t, st, newPAT(a.ID, u.ID))
	addr := func(ip string) tokend.TokenAddress {
		return tokend.TokenAddress{TokenID: tk.ID, AccountID: a.ID, IP: ip, FirstSeen: base}
	}
	fresh, err := st.AddTokenAddresses(ctx, []tokend.TokenAddress{addr("192.0.2.1"), addr("2001:db8::1"),
		{TokenID: tk.ID + 1000000, AccountID: a.ID, IP: "192.0.2.9", FirstSeen: base}})
	must(t, err, "AddTokenAddresses")
	if len(fresh) != 2 {
		t.Fatalf("first addresses: got %+v, want the two of the existing token", fresh)
	}
	fresh, err = st.AddTokenAddresses(ctx, []tokend.TokenAddress{addr("192.0.2.1"), addr("192.0.2.2")})
	must(t, err, "AddTokenAddresses")
	if len(fresh) != 1 || fresh[0].IP != "192.0.2.2" || fresh[0].AccountID != a.ID || fresh[0].TokenID != tk.ID {
		t.Errorf("second batch: got %+v, want only 192.0.2.2 as new", fresh)
	}
}
