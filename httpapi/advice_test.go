package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"tokend"
)

type adviceBody struct {
	Kind   string `json:"kind"`
	Days   int    `json:"days"`
	Grants []json.RawMessage
	Used   []struct {
		Permission string `json:"permission"`
		ProjectID  *int64 `json:"project_id"`
		Count      int64  `json:"count"`
	} `json:"used"`
	Proposed json.RawMessage `json:"proposed"`
	Loses    []struct {
		Scope       string   `json:"scope"`
		Permissions []string `json:"permissions"`
	} `json:"loses"`
	Unused     []json.RawMessage `json:"unused"`
	Automation bool              `json:"automation"`
}

// An account_admin service token that only read one project's projects is advised down to the
// narrowest set on that project; applying the advice through the permissions endpoint keeps
// every observed call working and refuses the rest.
func TestAdviceShrinksAServiceToken(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		clk.set(time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC))
		ctx := context.Background()
		f := e.initAccount("Giedi", "owner@example.com")
		a := f.Account.ID
		project := func(name string) int64 {
			t.Helper()
			r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), bearer(f.Token), `{"name": "`+name+`"}`)
			if r.Code != http.StatusCreated {
				t.Fatalf("create project: got %d, want 201: %s", r.Code, r.Raw)
			}
			var p struct {
				ID int64 `json:"id"`
			}
			r.data(t, &p)
			return p.ID
		}
		p1, p2 := project("Harkonnen"), project("Corrino")
		r := e.do("POST", stPath(a, ""), bearer(f.Token),
			`{"name": "ci", "permission_grants": [{"permission_set": "account_admin", "all_projects": true}]}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("service token: got %d, want 201: %s", r.Code, r.Raw)
		}
		var st serviceTokenBody
		r.data(t, &st)
		tok := *st.TokenString
		getP1 := fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, p1)
		for day := range 3 {
			clk.set(time.Date(2026, 5, 10+day, 12, 0, 0, 0, time.UTC))
			for range 2 {
				if r := e.do("GET", getP1, bearer(tok), ""); r.Code != http.StatusOK {
					t.Fatalf("read project %d: got %d, want 200: %s", p1, r.Code, r.Raw)
				}
			}
			if day == 1 { // some of the uses reach the database, the rest are still in memory
				if err := e.svc.FlushUsage(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}

		advicePath := fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/%d/advice/", a, *st.ID)
		r = e.do("GET", advicePath, bearer(f.Token), "")
		if r.Code != http.StatusOK {
			t.Fatalf("advice: got %d, want 200: %s", r.Code, r.Raw)
		}
		var adv adviceBody
		r.data(t, &adv)
		if adv.Kind != "service" || adv.Days != 30 {
			t.Errorf("got kind %q days %d, want service 30", adv.Kind, adv.Days)
		}
		if len(adv.Used) != 1 || adv.Used[0].Permission != "projects:read" || adv.Used[0].ProjectID == nil ||
			*adv.Used[0].ProjectID != p1 || adv.Used[0].Count != 6 {
			t.Errorf("used: got %+v, want projects:read in project %d 6 times", adv.Used, p1)
		}
		var proposed []struct {
			PermissionSet string `json:"permission_set"`
			AllProjects   bool   `json:"all_projects"`
			ProjectID     *int64 `json:"project_id"`
		}
		if err := json.Unmarshal(adv.Proposed, &proposed); err != nil {
			t.Fatal(err)
		}
		if len(proposed) != 1 || proposed[0].PermissionSet != "job_viewer" || proposed[0].AllProjects ||
			proposed[0].ProjectID == nil || *proposed[0].ProjectID != p1 {
			t.Fatalf("proposed: got %s, want job_viewer on project %d", adv.Proposed, p1)
		}
		if len(adv.Loses) == 0 || adv.Loses[0].Scope != "account" {
			t.Errorf("loses: got %+v, want the account-level capabilities first", adv.Loses)
		}
		for _, l := range adv.Loses {
			for _, p := range l.Permissions {
				if p == "projects:read" && l.Scope == "project" {
					t.Errorf("loses: got %+v, want nothing it used", adv.Loses)
				}
			}
		}
		t.Run("out-of-range window", func(t *testing.T) {
			for _, d := range []string{"0", "366", "x"} {
				if r := e.do("GET", advicePath+"?days="+d, bearer(f.Token), ""); r.Code != http.StatusBadRequest {
					t.Errorf("days=%s: got %d, want 400", d, r.Code)
				}
			}
		})
		t.Run("another account's token", func(t *testing.T) {
			other := e.initAccount("Ix", "ix@example.com")
			r := e.do("GET", fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/%d/advice/", other.Account.ID, *st.ID), bearer(other.Token), "")
			if r.Code != http.StatusNotFound {
				t.Errorf("got %d, want 404: %s", r.Code, r.Raw)
			}
			r = e.do("GET", advicePath, bearer(other.Token), "")
			if r.Code != http.StatusForbidden {
				t.Errorf("other account's id in the path: got %d, want 403", r.Code)
			}
		})

		// Applying the advice is the permissions endpoint with the proposed array.
		r = e.do("POST", stPath(a, fmt.Sprintf("%d/permissions/", *st.ID)), bearer(f.Token), string(adv.Proposed))
		if r.Code != http.StatusOK {
			t.Fatalf("apply: got %d, want 200: %s", r.Code, r.Raw)
		}
		calls := []struct {
			name, method, path, body string
			want                     int
		}{
			{"the observed call", "GET", getP1, "", http.StatusOK},
			{"another project", "GET", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, p2), "", http.StatusForbidden},
			{"rename the project", "POST", getP1, `{"name": "x"}`, http.StatusForbidden},
			{"create a project", "POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), `{"name": "y"}`, http.StatusForbidden},
			{"read the audit log", "GET", fmt.Sprintf("/api/v3/accounts/%d/audit-logs/", a), "", http.StatusForbidden},
			{"list service tokens", "GET", stPath(a, ""), "", http.StatusForbidden},
		}
		for _, c := range calls {
			t.Run("applied/"+c.name, func(t *testing.T) {
				if r := e.do(c.method, c.path, bearer(tok), c.body); r.Code != c.want {
					t.Errorf("got %d, want %d: %s", r.Code, c.want, r.Raw)
				}
			})
		}
	})
}

// A PAT's advice says which of its user's powers it used; used on enough days it looks like
// automation and comes with the service token that would do its job.
func TestAdviceOfAPAT(t *testing.T) {
	t.Parallel()
	clk := &clock{}
	eachStoreWith(t, func(o *tokend.Options) { o.Now = clk.now }, func(t *testing.T, e *env) {
		clk.set(time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC))
		f := e.initAccount("Tleilax", "owner@example.com")
		a := f.Account.ID
		r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/projects/", a), bearer(f.Token), `{"name": "Face"}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("create project: got %d, want 201: %s", r.Code, r.Raw)
		}
		var p struct {
			ID int64 `json:"id"`
		}
		r.data(t, &p)
		u := f.User.ID
		pat := mintPAT(t, e, a, u)
		who := e.do("GET", "/api/v3/whoami/", bearer(pat), "")
		if who.Code != http.StatusOK {
			t.Fatalf("whoami: got %d: %s", who.Code, who.Raw)
		}
		patID := patIDOf(t, e, a, u, pat)
		advice := func() adviceBody {
			t.Helper()
			if err := e.svc.FlushUsage(context.Background()); err != nil {
				t.Fatal(err)
			}
			r := e.do("GET", fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/%d/advice/", a, patID), bearer(pat), "")
			if r.Code != http.StatusOK {
				t.Fatalf("advice: got %d, want 200: %s", r.Code, r.Raw)
			}
			var adv adviceBody
			r.data(t, &adv)
			return adv
		}
		for day := range 5 {
			clk.set(time.Date(2026, 5, 10+day, 12, 0, 0, 0, time.UTC))
			if r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/projects/%d/", a, p.ID), bearer(pat), ""); r.Code != http.StatusOK {
				t.Fatalf("read project: got %d, want 200: %s", r.Code, r.Raw)
			}
			adv := advice()
			if adv.Kind != "pat" || len(adv.Unused) == 0 {
				t.Fatalf("day %d: got kind %q unused %d, want pat with unused powers", day, adv.Kind, len(adv.Unused))
			}
			if want := day >= 4; adv.Automation != want {
				t.Errorf("day %d: automation got %v, want %v", day, adv.Automation, want)
			}
			if adv.Automation && string(adv.Proposed) == "[]" {
				t.Errorf("day %d: automation without a proposed service token", day)
			}
		}
	})
}

// patIDOf finds the id of the user's PAT whose string is tok, through the store.
func patIDOf(t testing.TB, e *env, accountID tokend.AccountID, userID tokend.UserID, tok string) int64 {
	t.Helper()
	ts, _, err := e.store.ListTokens(context.Background(), tokend.TokenFilter{Kind: tokend.KindPAT, AccountID: accountID, UserID: userID})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 15 {
		t.Fatal("short token")
	}
	for _, x := range ts {
		if x.UID == tok[5:15] {
			return int64(x.ID)
		}
	}
	t.Fatalf("PAT of user %d not found", userID)
	return 0
}

// A caller who may not read the account's API tokens learns nothing about which token ids
// exist from the advice endpoint: an existing token and an unknown id get the same refusal.
func TestAdviceHidesWhichTokensExist(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := e.initAccount("Arrakis", "owner@example.com")
		a := f.Account.ID
		mint := func(set string) (int64, string) {
			t.Helper()
			r := e.do("POST", stPath(a, ""), bearer(f.Token),
				`{"name": "`+set+`", "permission_grants": [{"permission_set": "`+set+`", "all_projects": true}]}`)
			if r.Code != http.StatusCreated {
				t.Fatalf("service token: got %d, want 201: %s", r.Code, r.Raw)
			}
			var st serviceTokenBody
			r.data(t, &st)
			return *st.ID, *st.TokenString
		}
		adminID, _ := mint("account_admin")
		_, viewer := mint("job_viewer")
		ask := func(id int64) *response {
			return e.do("GET", fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/%d/advice/", a, id), bearer(viewer), "")
		}
		known, unknown := ask(adminID), ask(adminID+100000)
		if known.Code != http.StatusForbidden || unknown.Code != http.StatusForbidden {
			t.Errorf("existing token: got %d, unknown id: got %d, want 403 for both", known.Code, unknown.Code)
		}
		if k, u := known.Body.Status.DeveloperMessage, unknown.Body.Status.DeveloperMessage; k != u {
			t.Errorf("existing token: got %q, unknown id: got %q, want the same answer", k, u)
		}
	})
}
