package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// tokend token advise prints what a service token used and the narrowest grants that cover it,
// in both formats, against a real server on each store.
func TestCLITokenAdvise(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var a initResult
			out := run(t, append([]string{"init", "--account-name", "Ecaz", "--plan", "enterprise",
				"--email", "owner@example.com", "--password", "a long enough password", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Fatalf("init --json printed %q: %v", out, err)
			}
			srv := startServer(t, st)
			base := fmt.Sprintf("%s/api/v3/accounts/%d", srv.url, a.AccountID)
			r := call(t, "POST", base+"/projects/", "Bearer "+a.Token, `{"name": "Fog"}`)
			var proj struct{ ID int64 }
			if err := json.Unmarshal(r.Data, &proj); err != nil || r.code != 201 {
				t.Fatalf("create project: got %d (%v)", r.code, err)
			}
			r = call(t, "POST", base+"/service-tokens/", "Bearer "+a.Token,
				`{"name": "ci", "permission_grants": [{"permission_set": "account_admin", "all_projects": true}]}`)
			var tok struct {
				ID          int64  `json:"id"`
				TokenString string `json:"token_string"`
			}
			if err := json.Unmarshal(r.Data, &tok); err != nil || r.code != 201 {
				t.Fatalf("create service token: got %d (%v)", r.code, err)
			}
			for range 3 {
				if r := call(t, "GET", fmt.Sprintf("%s/projects/%d/", base, proj.ID), "Bearer "+tok.TokenString, ""); r.code != 200 {
					t.Fatalf("read project: got %d", r.code)
				}
			}
			env := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_URL=" + srv.url,
				"TOKEND_TOKEN=" + a.Token, fmt.Sprintf("TOKEND_ACCOUNT_ID=%d", a.AccountID), fmt.Sprintf("TOKEND_USER_ID=%d", a.UserID)}
			out = mustCLI(t, env, "token", "advise", fmt.Sprint(tok.ID))
			for _, want := range []string{"projects:read", fmt.Sprintf("job_viewer@project %d", proj.ID), "Would lose:",
				"account_admin@all", "permissions/"} {
				if !strings.Contains(out, want) {
					t.Errorf("token advise printed %q, want %q in it", out, want)
				}
			}
			var adv struct {
				Kind     string `json:"kind"`
				Proposed []struct {
					PermissionSet string `json:"permission_set"`
					ProjectID     *int64 `json:"project_id"`
				} `json:"proposed"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "token", "advise", fmt.Sprint(tok.ID), "--json", "--days", "7")), &adv); err != nil ||
				adv.Kind != "service" || len(adv.Proposed) != 1 || adv.Proposed[0].PermissionSet != "job_viewer" ||
				adv.Proposed[0].ProjectID == nil || *adv.Proposed[0].ProjectID != proj.ID {
				t.Errorf("token advise --json: got %+v (%v), want job_viewer on project %d", adv, err, proj.ID)
			}
			if r := cli(t, "", env, "token", "advise", "nope"); r.err == nil {
				t.Errorf("token advise nope: got success, want a usage error")
			}
			srv.stop(t)
		})
	}
}
