package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

type auditData struct {
	ID        string `json:"id"`
	AccountID int64  `json:"account_id"`
	EventType string `json:"event_type"`
	Actor     struct {
		UserID   *int64 `json:"user_id"`
		TokenUID string `json:"token_uid"`
	} `json:"actor"`
	EventContext struct {
		IP string `json:"ip"`
	} `json:"event_context"`
	CreatedAt string `json:"created_at"`
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("Audited", "owner@example.com")
	other := e.initAccount("Other", "other@example.com")
	path := fmt.Sprintf("/api/v3/accounts/%d/audit-logs/", a.Account.ID)
	for i := 0; i < 3; i++ {
		r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/", a.Account.ID), bearer(a.Token), fmt.Sprintf(`{"name": "name %d"}`, i))
		if r.Code != http.StatusOK {
			t.Fatalf("rename: got %d, want 200", r.Code)
		}
	}

	t.Run("newest first with actor and origin", func(t *testing.T) {
		r := e.do("GET", path, bearer(a.Token), "")
		if r.Code != http.StatusOK {
			t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
		}
		var got []auditData
		r.data(t, &got)
		if len(got) != 4 {
			t.Fatalf("got %d events, want 4 (create + 3 updates)", len(got))
		}
		if got[0].EventType != "account.update" || got[3].EventType != "account.create" {
			t.Errorf("got order %s … %s, want account.update first and account.create last", got[0].EventType, got[3].EventType)
		}
		if got[0].Actor.TokenUID != a.TokenUID || got[0].Actor.UserID == nil || *got[0].Actor.UserID != int64(a.User.ID) {
			t.Errorf("got actor %+v, want user %d with token %s", got[0].Actor, a.User.ID, a.TokenUID)
		}
		if got[0].EventContext.IP != "127.0.0.1" {
			t.Errorf("got ip %q, want 127.0.0.1", got[0].EventContext.IP)
		}
	})

	t.Run("paging", func(t *testing.T) {
		r := e.do("GET", path+"?limit=2&offset=1", bearer(a.Token), "")
		var got []auditData
		r.data(t, &got)
		var extra listExtra
		if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || extra.Pagination.Count != 2 || extra.Pagination.TotalCount != 4 {
			t.Errorf("got %d rows, pagination %+v; want 2 rows, count 2, total 4", len(got), extra.Pagination)
		}
	})

	t.Run("filters", func(t *testing.T) {
		future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"?event_type=account.create", 1},
			{"?since=" + future, 0},
			{"?until=" + future, 4},
		} {
			r := e.do("GET", path+tc.query, bearer(a.Token), "")
			var got []auditData
			r.data(t, &got)
			if len(got) != tc.want {
				t.Errorf("%s: got %d events, want %d", tc.query, len(got), tc.want)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name, path, tok string
			want            int
		}{
			{"other account", path, other.Token, http.StatusForbidden},
			{"bad since", path + "?since=yesterday", a.Token, http.StatusBadRequest},
			{"bad limit", path + "?limit=-1", a.Token, http.StatusBadRequest},
		} {
			if r := e.do("GET", tc.path, bearer(tc.tok), ""); r.Code != tc.want {
				t.Errorf("%s: got %d, want %d", tc.name, r.Code, tc.want)
			}
		}
	})
}

// TestAuditUsesDBTEventNames: the events dbt has carry dbt's names, and the audit log filters
// by them; tokend's own events keep tokend's names.
func TestAuditUsesDBTEventNames(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		a := e.initAccount("Names", "owner@example.com")
		acct, tok := a.Account.ID, bearer(a.Token)
		pat := e.do("POST", patsPath(acct, a.User.ID), tok, `{"name": "laptop"}`)
		var p struct {
			ID int64 `json:"id"`
		}
		pat.data(t, &p)
		if code, _ := e.doNoBody("DELETE", fmt.Sprintf("%s%d/", patsPath(acct, a.User.ID), p.ID), tok); code/100 != 2 {
			t.Fatalf("delete PAT: got %d", code)
		}
		st := e.do("POST", stPath(acct, ""), tok, `{"name": "ci", "permission_grants": [{"permission_set": "job_admin"}]}`)
		var s struct {
			ID int64 `json:"id"`
		}
		st.data(t, &s)
		if code, _ := e.doNoBody("DELETE", stPath(acct, fmt.Sprintf("%d/", s.ID)), tok); code/100 != 2 {
			t.Fatalf("delete service token: got %d", code)
		}
		createProject(t, e, a.Token, acct, "Named")
		for _, tc := range []struct {
			action string
			target int64
		}{
			{"account_scoped_pat.created", p.ID},
			{"account_scoped_pat.deleted", p.ID},
			{"service_token.created", s.ID},
			{"service_token.revoked", s.ID},
			{"project.create", 0},
		} {
			r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/audit-logs/?event_type=%s", acct, tc.action), tok, "")
			var evs []struct {
				EventType    string `json:"event_type"`
				EventContext struct {
					TargetID *int64 `json:"target_id"`
				} `json:"event_context"`
			}
			r.data(t, &evs)
			if len(evs) != 1 || evs[0].EventType != tc.action || (tc.target != 0 && (evs[0].EventContext.TargetID == nil || *evs[0].EventContext.TargetID != tc.target)) {
				t.Errorf("event_type=%s: got %d events %+v, want one on %d", tc.action, len(evs), evs, tc.target)
			}
		}
		for _, old := range []string{"token.create", "token.delete"} {
			if slices.Contains(auditActions(t, e, acct), old) {
				t.Errorf("got a %q event, want dbt's name instead", old)
			}
		}
	})
}

// A valid token refused over and over costs no database write per request: refusals are folded
// by token, method and path and written in one batch, each event counting its refusals.
func TestRefusalsAreFolded(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.initAccount("Arrakis", "paul@example.com")
		acct := a.Account.ID
		viewer := mintService(t, e, acct, perm.JobViewer)
		forbidden := []string{fmt.Sprintf("/api/v3/accounts/%d/users/", acct), fmt.Sprintf("/api/v3/accounts/%d/groups/", acct)}
		const n = 60
		for i := range n {
			if r := e.do("GET", forbidden[i%2], bearer(viewer), ""); r.Code != http.StatusForbidden {
				t.Fatalf("got %d, want 403", r.Code)
			}
		}
		count := func() (int, []*tokend.AuditEvent) {
			t.Helper()
			evs, total, err := e.store.ListAudit(ctx, tokend.AuditFilter{AccountID: acct, Action: "token.refused",
				Page: tokend.Page{Limit: tokend.MaxLimit}})
			if err != nil {
				t.Fatal(err)
			}
			return total, evs
		}
		if got, _ := count(); got != 0 {
			t.Errorf("before the flush: got %d refusal rows, want 0 (no write per request)", got)
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		got, evs := count()
		if got != 2 {
			t.Fatalf("after the flush: got %d refusal rows, want 2 (one per path)", got)
		}
		for _, ev := range evs {
			if ev.Detail["count"] != fmt.Sprint(n/2) || ev.Detail["method"] != "GET" || !slices.Contains(forbidden, ev.Detail["path"]) ||
				ev.Detail["uid"] != uidOf(t, viewer) || ev.Detail["first_at"] == "" {
				t.Errorf("got detail %v, want count %d, GET, one of the paths, the uid and the first time", ev.Detail, n/2)
			}
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := count(); got != 2 {
			t.Errorf("after a second flush with nothing new: got %d rows, want 2", got)
		}

		// A user agent that is not UTF-8 (HTTP allows it, PostgreSQL refuses it) must not hold
		// the batch back.
		req, _ := http.NewRequest("GET", e.srv.URL+forbidden[0], nil)
		req.Header.Set("Authorization", bearer(viewer))
		req.Header.Set("User-Agent", "agent\xff\xfe")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d, want 403", resp.StatusCode)
		}
		if err := e.svc.FlushUsage(ctx); err != nil {
			t.Fatalf("flush with a user agent that is not UTF-8: %v", err)
		}
		if got, _ := count(); got != 3 {
			t.Errorf("got %d rows, want 3", got)
		}
	})
}
