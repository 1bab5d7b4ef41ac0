package storetest

import (
	"testing"
	"time"

	"tokend"
)

func testAudit(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	u := mustUser(t, st)

	event := func(accountID tokend.AccountID, action string, createdAt time.Time, detail map[string]string) *tokend.AuditEvent {
		t.Helper()
		e := &tokend.AuditEvent{AccountID: accountID, ActorUserID: u.ID, ActorToken: unique(), Action: action,
			TargetType: "token", TargetID: 42, Detail: detail, IP: "192.0.2.10", UserAgent: "curl/8.5.0",
			CreatedAt: createdAt}
		must(t, st.AppendAudit(ctx, e), "AppendAudit")
		if e.ID <= 0 {
			t.Fatalf("AppendAudit: got ID %d, want > 0", e.ID)
		}
		return e
	}
	e1 := event(a.ID, "token.create", base, map[string]string{"name": "ci", "plan": "enterprise"})
	e2 := event(a.ID, "token.delete", at(time.Hour), nil)
	e3 := event(a.ID, "token.create", at(2*time.Hour), map[string]string{})
	eb := event(b.ID, "token.create", at(2*time.Hour), nil)
	e4 := event(a.ID, "auth.refused", at(3*time.Hour), map[string]string{"reason": "expired"})
	// Two events in the same microsecond: the later append is the newer.
	e5 := event(a.ID, "token.create", at(4*time.Hour), nil)
	e6 := event(a.ID, "token.rotate", at(4*time.Hour), nil)
	// Another actor, and events of one token: as the actor (by uid) and as the target (by id).
	v := mustUser(t, st)
	byV := &tokend.AuditEvent{AccountID: a.ID, ActorUserID: v.ID, ActorToken: "tokOfV", Action: "token.create",
		TargetType: "service", TargetID: 7001, CreatedAt: at(5 * time.Hour)}
	must(t, st.AppendAudit(ctx, byV), "AppendAudit(by v)")
	onTok := &tokend.AuditEvent{AccountID: a.ID, ActorUserID: u.ID, ActorToken: "tokOfU", Action: "token.rotate",
		TargetType: "service", TargetID: 7001, CreatedAt: at(6 * time.Hour)}
	must(t, st.AppendAudit(ctx, onTok), "AppendAudit(on token)")
	// A user target with the token's id is not the token.
	onUser := &tokend.AuditEvent{AccountID: a.ID, ActorUserID: u.ID, Action: "user.update",
		TargetType: "user", TargetID: 7001, CreatedAt: at(6 * time.Hour)}
	must(t, st.AppendAudit(ctx, onUser), "AppendAudit(on user)")
	tokenEvents := []*tokend.AuditEvent{onTok, byV}

	// An event bound to no account, with no actor (a refused legacy key, say).
	loose := &tokend.AuditEvent{Action: "auth.refused", IP: "198.51.100.1", CreatedAt: at(time.Hour)}
	must(t, st.AppendAudit(ctx, loose), "AppendAudit(no account)")

	all := []*tokend.AuditEvent{e6, e5, e4, e3, e2, e1}
	// The three later events count in the account's totals.
	everything := append([]*tokend.AuditEvent{onUser, onTok, byV}, all...)
	tests := []struct {
		name      string
		f         tokend.AuditFilter
		want      []*tokend.AuditEvent
		wantTotal int
	}{
		{"account, newest first", tokend.AuditFilter{AccountID: a.ID}, everything, 9},
		{"other account", tokend.AuditFilter{AccountID: b.ID}, []*tokend.AuditEvent{eb}, 1},
		{"action", tokend.AuditFilter{AccountID: a.ID, Action: "token.create"}, []*tokend.AuditEvent{byV, e5, e3, e1}, 4},
		{"unknown action", tokend.AuditFilter{AccountID: a.ID, Action: "nothing"}, nil, 0},
		// Since is inclusive, Until exclusive.
		{"since", tokend.AuditFilter{AccountID: a.ID, TimeRange: tokend.TimeRange{Since: at(time.Hour), Until: at(5 * time.Hour)}},
			[]*tokend.AuditEvent{e6, e5, e4, e3, e2}, 5},
		{"until", tokend.AuditFilter{AccountID: a.ID, TimeRange: tokend.TimeRange{Until: at(3 * time.Hour)}},
			[]*tokend.AuditEvent{e3, e2, e1}, 3},
		{"since and until", tokend.AuditFilter{AccountID: a.ID,
			TimeRange: tokend.TimeRange{Since: at(time.Hour), Until: at(3 * time.Hour)}},
			[]*tokend.AuditEvent{e3, e2}, 2},
		{"range and action", tokend.AuditFilter{AccountID: a.ID, Action: "token.create",
			TimeRange: tokend.TimeRange{Since: at(time.Minute)}}, []*tokend.AuditEvent{byV, e5, e3}, 3},
		{"page", tokend.AuditFilter{AccountID: a.ID, Page: tokend.Page{Limit: 2, Offset: 4}},
			[]*tokend.AuditEvent{e5, e4}, 9},
		{"page of action", tokend.AuditFilter{AccountID: a.ID, Action: "token.create", Page: tokend.Page{Limit: 1, Offset: 2}},
			[]*tokend.AuditEvent{e3}, 4},
		{"past the end", tokend.AuditFilter{AccountID: a.ID, Page: tokend.Page{Offset: 9}}, nil, 9},
		{"actor", tokend.AuditFilter{AccountID: a.ID, ActorUserID: v.ID}, []*tokend.AuditEvent{byV}, 1},
		{"actor and action", tokend.AuditFilter{AccountID: a.ID, ActorUserID: u.ID, Action: "token.rotate"},
			[]*tokend.AuditEvent{onTok, e6}, 2},
		{"token as actor or target", tokend.AuditFilter{AccountID: a.ID, TokenUID: "tokOfV", TokenID: 7001}, tokenEvents, 2},
		{"token as actor only", tokend.AuditFilter{AccountID: a.ID, TokenUID: "tokOfU"}, []*tokend.AuditEvent{onTok}, 1},
		{"token of no event", tokend.AuditFilter{AccountID: a.ID, TokenUID: "nosuchuid", TokenID: 999999}, nil, 0},
		{"token and date range", tokend.AuditFilter{AccountID: a.ID, TokenUID: "tokOfV", TokenID: 7001,
			TimeRange: tokend.TimeRange{Until: at(6 * time.Hour)}}, []*tokend.AuditEvent{byV}, 1},
		{"before an id", tokend.AuditFilter{AccountID: a.ID, BeforeID: e4.ID, Page: tokend.Page{Limit: 2}},
			[]*tokend.AuditEvent{e3, e2}, 3},
		{"before an id, not counted", tokend.AuditFilter{AccountID: a.ID, BeforeID: e4.ID, NoTotal: true},
			[]*tokend.AuditEvent{e3, e2, e1}, -1},
		{"unknown account", tokend.AuditFilter{AccountID: 999999}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := st.ListAudit(ctx, tt.f)
			must(t, err, "ListAudit")
			wantIDs(t, "ListAudit", ids(got, auditID), ids(tt.want, auditID))
			if total != tt.wantTotal {
				t.Errorf("ListAudit total: got %d, want %d", total, tt.wantTotal)
			}
		})
	}

	t.Run("RoundTrip", func(t *testing.T) {
		got, _, err := st.ListAudit(ctx, tokend.AuditFilter{AccountID: a.ID, TimeRange: tokend.TimeRange{Until: at(5 * time.Hour)}})
		must(t, err, "ListAudit")
		if len(got) != len(all) {
			t.Fatalf("ListAudit: got %d events, want %d", len(got), len(all))
		}
		for i := range all {
			auditDiff(got[i], all[i]).report(t, "event "+all[i].Action)
		}
	})
}
