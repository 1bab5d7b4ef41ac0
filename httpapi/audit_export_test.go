package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// The audit log filters by actor and by token, and exports what the filters select as CSV or
// JSON, read from the store page by page, with formula-looking cells neutralised and a bound.
func TestAuditFiltersAndExport(t *testing.T) {
	t.Parallel()
	const maxExport = 300
	eachStoreWith(t, func(o *tokend.Options) { o.MaxAuditExport = maxExport }, func(t *testing.T, e *env) {
		f := newGroupsFixture(t, e, "Arrakis Spice", "owner@example.com")
		a := f.Account.ID
		member, memberTok := addGroupsMember(t, e, a, "chani@example.com", perm.LicenseDeveloper)
		setGroups(t, e, a, tokend.UserID(member), tokend.GroupID(f.owner))
		viewer, viewerTok := addGroupsMember(t, e, a, "viewer@example.com", perm.LicenseDeveloper)
		setGroups(t, e, a, tokend.UserID(viewer), tokend.GroupID(f.member))

		// The owner creates a service token, the member renames the account (with a user agent
		// that a spreadsheet would run), the owner rotates the token.
		r := e.do("POST", stPath(a, ""), bearer(f.Token), `{"name": "ci", "permission_grants": [{"permission_set": "job_admin"}]}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("create service token: got %d, want 201: %s", r.Code, r.Raw)
		}
		var st serviceTokenBody
		r.data(t, &st)
		const evil = `=HYPERLINK("http://attacker.example","click")`
		r = e.doAt(e.srv.URL, "POST", fmt.Sprintf("/api/v2/accounts/%d/", a), bearer(memberTok), `{"name": "Arrakis"}`,
			map[string]string{"User-Agent": evil})
		if r.Code != http.StatusOK {
			t.Fatalf("rename: got %d, want 200: %s", r.Code, r.Raw)
		}
		r = e.do("POST", fmt.Sprintf("/api/tokend/v1/accounts/%d/service-tokens/%d/rotate/", a, *st.ID), bearer(f.Token), `{}`)
		if r.Code != http.StatusOK && r.Code != http.StatusCreated {
			t.Fatalf("rotate: got %d, want 200: %s", r.Code, r.Raw)
		}

		list := func(t *testing.T, query string) []auditData {
			t.Helper()
			r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/audit-logs/%s", a, query), bearer(f.Token), "")
			if r.Code != http.StatusOK {
				t.Fatalf("%s: got %d, want 200: %s", query, r.Code, r.Raw)
			}
			var got []auditData
			r.data(t, &got)
			return got
		}
		types := func(es []auditData) []string {
			var out []string
			for _, e := range es {
				out = append(out, e.EventType)
			}
			return out
		}
		t.Run("actor", func(t *testing.T) {
			got := list(t, fmt.Sprintf("?actor_user_id=%d", member))
			if strings.Join(types(got), ",") != "account.update" {
				t.Errorf("got %v, want the member's one account.update", types(got))
			}
		})
		t.Run("token", func(t *testing.T) {
			got := list(t, "?token_uid="+st.UID)
			if len(got) < 2 || got[len(got)-1].EventType != tokend.ActionServiceTokenCreated {
				t.Errorf("got %v, want the token's rotation and, oldest, its creation", types(got))
			}
			for _, ev := range got {
				if ev.EventType == "account.update" {
					t.Errorf("got %v, want no event that is not the token's", types(got))
				}
			}
		})
		t.Run("token and actor", func(t *testing.T) {
			if got := list(t, fmt.Sprintf("?token_uid=%s&actor_user_id=%d", st.UID, member)); len(got) != 0 {
				t.Errorf("got %v, want none: the member did nothing to the token", types(got))
			}
		})
		t.Run("bad actor", func(t *testing.T) {
			r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/audit-logs/?actor_user_id=me", a), bearer(f.Token), "")
			wantField(t, r, http.StatusBadRequest, "actor_user_id")
		})

		export := func(t *testing.T, tok, query string) *response {
			t.Helper()
			return download(t, e.srv.URL+fmt.Sprintf("/api/tokend/v1/accounts/%d/audit-logs/export/%s", a, query), tok)
		}
		total := len(list(t, "?limit=100"))
		t.Run("csv", func(t *testing.T) {
			r := export(t, f.Token, "?format=csv")
			if r.Code != http.StatusOK {
				t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Errorf("Content-Type: got %q, want text/csv", ct)
			}
			disp, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition"))
			if err != nil || disp != "attachment" || !strings.HasSuffix(params["filename"], ".csv") {
				t.Errorf("Content-Disposition: got %q, want an attachment named *.csv", r.Header.Get("Content-Disposition"))
			}
			rows, err := csv.NewReader(strings.NewReader(string(r.Raw))).ReadAll()
			if err != nil {
				t.Fatalf("parse the CSV: %v", err)
			}
			if len(rows) != total+1 || rows[0][0] != "id" {
				t.Fatalf("got %d rows (first %v), want a header and %d events", len(rows), rows[0], total)
			}
			ua := -1
			for i, c := range rows[0] {
				if c == "user_agent" {
					ua = i
				}
			}
			found := false
			for _, row := range rows[1:] {
				if strings.Contains(row[ua], "HYPERLINK") {
					found = true
					if row[ua] != "'"+evil {
						t.Errorf("user_agent cell: got %q, want it neutralised as %q", row[ua], "'"+evil)
					}
				}
				for _, c := range row {
					if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
						t.Errorf("cell %q: got a cell a spreadsheet reads as a formula", c)
					}
				}
			}
			if !found {
				t.Errorf("got no row with the rename's user agent, want one")
			}
		})
		t.Run("json, filtered", func(t *testing.T) {
			r := export(t, f.Token, "?format=json&token_uid="+st.UID)
			if r.Code != http.StatusOK {
				t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
			}
			if _, params, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition")); !strings.HasSuffix(params["filename"], ".json") {
				t.Errorf("Content-Disposition: got %q, want an attachment named *.json", r.Header.Get("Content-Disposition"))
			}
			var got []struct {
				ID        int64  `json:"id"`
				EventType string `json:"event_type"`
				UserAgent string `json:"user_agent"`
			}
			if err := json.Unmarshal(r.Raw, &got); err != nil {
				t.Fatalf("parse the JSON: %v: %s", err, r.Raw)
			}
			if want := len(list(t, "?token_uid="+st.UID)); len(got) != want {
				t.Errorf("got %d events, want %d (the token's)", len(got), want)
			}
		})
		t.Run("many pages", func(t *testing.T) {
			// Past one page of the store (100), newest first, none twice.
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			for i := range 250 {
				if err := e.store.AppendAudit(ctx, &tokend.AuditEvent{AccountID: a, ActorUserID: tokend.UserID(viewer), Action: "bulk.test",
					CreatedAt: now.Add(time.Duration(i) * time.Millisecond)}); err != nil {
					t.Fatal(err)
				}
			}
			r := export(t, f.Token, fmt.Sprintf("?format=json&actor_user_id=%d", viewer))
			if r.Code != http.StatusOK {
				t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
			}
			var got []struct {
				ID int64 `json:"id"`
			}
			if err := json.Unmarshal(r.Raw, &got); err != nil {
				t.Fatalf("parse the JSON: %v", err)
			}
			if len(got) != 250 {
				t.Fatalf("got %d events, want 250", len(got))
			}
			for i := 1; i < len(got); i++ {
				if got[i].ID >= got[i-1].ID {
					t.Fatalf("event %d: got id %d after %d, want newest first, each once", i, got[i].ID, got[i-1].ID)
				}
			}
			if n, _ := strconv.Atoi(r.Header.Get("X-Tokend-Export-Count")); n != 250 {
				t.Errorf("X-Tokend-Export-Count: got %q, want 250", r.Header.Get("X-Tokend-Export-Count"))
			}
		})
		t.Run("bad format", func(t *testing.T) {
			wantField(t, export(t, f.Token, "?format=xlsx"), http.StatusBadRequest, "format")
		})
		t.Run("bounded", func(t *testing.T) {
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Microsecond)
			for range maxExport {
				if err := e.store.AppendAudit(ctx, &tokend.AuditEvent{AccountID: a, Action: "bulk.more", CreatedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			r := export(t, f.Token, "?format=csv")
			if r.Code != http.StatusBadRequest {
				t.Fatalf("got %d, want 400: %s", r.Code, r.Raw)
			}
			if msg := r.Body.Status.UserMessage; !strings.Contains(msg, strconv.Itoa(maxExport)) || !strings.Contains(msg, "narrow") {
				t.Errorf("message: got %q, want it to name the bound and say to narrow the filters", msg)
			}
			if cd := r.Header.Get("Content-Disposition"); cd != "" {
				t.Errorf("Content-Disposition: got %q, want none on a refusal", cd)
			}
		})
		t.Run("needs the audit log", func(t *testing.T) {
			r := export(t, viewerTok, "?format=csv")
			if r.Code != http.StatusForbidden {
				t.Fatalf("a member without the audit log: got %d, want 403: %s", r.Code, r.Raw)
			}
			if got := r.Header.Get("X-Tokend-Required-Permission"); got != "audit_log:read" {
				t.Errorf("X-Tokend-Required-Permission: got %q, want audit_log:read", got)
			}
		})
	})
}

// download GETs url with a bearer token and reads the body whole; a refusal's envelope is
// parsed, a download's body is left in Raw.
func download(t *testing.T, url, tok string) *response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearer(tok))
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := &response{Code: resp.StatusCode, Header: resp.Header}
	if out.Raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(out.Raw, &out.Body); err != nil {
			t.Fatalf("GET %s: got %d and a body that is not the JSON envelope: %v\n%s", url, resp.StatusCode, err, out.Raw)
		}
	}
	return out
}
