package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIAdmin drives the administrator's and the operator's commands through the real binary
// on both stores: service tokens, the inventory and bulk revoke, api, completion of ids, and
// account recovery (set-password, password change, reset links).
func TestCLIAdmin(t *testing.T) {
	t.Parallel()
	const pw = "a long enough password"
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var a initResult
			out := run(t, append([]string{"init", "--account-name", "Arrakis", "--email", "paul@example.com", "--password", pw, "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, st)
			env := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_URL=" + srv.url, "TOKEND_TOKEN=" + a.Token}
			ok := func(tok string) bool {
				return call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+tok, "").code == 200
			}

			// Service tokens: create with permission sets, list, permissions, rotate, delete.
			var st1 struct {
				ID          int64  `json:"id"`
				Name        string `json:"name"`
				TokenString string `json:"token_string"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "service-token", "create", "--name", "ci", "--grant", "job_admin", "--grant", "readonly", "--json")), &st1); err != nil ||
				st1.Name != "ci" || !ok(st1.TokenString) {
				t.Fatalf("service-token create: got %+v (%v), want a working token", st1, err)
			}
			if r := cli(t, "", env, "service-token", "create", "--name", "x", "--grant", "jobadmin"); exitStatus(r.err) != exitUsage ||
				!strings.Contains(r.stderr, `"jobadmin" is not a permission set`) {
				t.Errorf("a misspelt set: got exit %d, stderr %q; want 2 naming it", exitStatus(r.err), r.stderr)
			}
			if out := mustCLI(t, env, "service-token", "list"); !strings.Contains(out, "job_admin on all projects") {
				t.Errorf("service-token list printed %q, want the grants", out)
			}
			if out := mustCLI(t, env, "st", "permissions", fmt.Sprint(st1.ID)); !strings.Contains(out, "Job Admin") || !strings.Contains(out, "readonly") {
				t.Errorf("permissions printed %q, want both sets with their labels", out)
			}
			var grants []struct {
				PermissionSet string `json:"permission_set"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "st", "permissions", fmt.Sprint(st1.ID), "--grant", "job_runner", "--json")), &grants); err != nil ||
				len(grants) != 1 || grants[0].PermissionSet != "job_runner" {
				t.Errorf("permissions --grant: got %+v (%v), want job_runner only", grants, err)
			}
			var st2 struct {
				ID          int64  `json:"id"`
				TokenString string `json:"token_string"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "st", "rotate", fmt.Sprint(st1.ID), "--json")), &st2); err != nil || st2.ID == st1.ID {
				t.Fatalf("rotate: got %+v (%v), want a new token", st2, err)
			}
			if ok(st1.TokenString) || !ok(st2.TokenString) {
				t.Errorf("after rotate: old works %v, new works %v; want only the new", ok(st1.TokenString), ok(st2.TokenString))
			}
			// Delete asks; without a terminal it refuses and says --yes.
			if r := cli(t, "", env, "st", "delete", fmt.Sprint(st2.ID)); exitStatus(r.err) != exitUsage || !strings.Contains(r.stderr, "--yes") || !ok(st2.TokenString) {
				t.Errorf("delete without --yes and no terminal: got exit %d, stderr %q; want 2 asking for --yes, token kept", exitStatus(r.err), r.stderr)
			}
			if r := cli(t, "", env, "st", "delete", "999999", "--yes"); exitStatus(r.err) != exitError || !strings.Contains(r.stderr, "999999") {
				t.Errorf("delete of a missing token: got exit %d, stderr %q", exitStatus(r.err), r.stderr)
			}
			mustCLI(t, env, "st", "delete", fmt.Sprint(st2.ID), "--yes")
			if ok(st2.TokenString) {
				t.Errorf("the service token works after delete")
			}

			// Completion of ids asks the server.
			var pat patOut
			json.Unmarshal([]byte(mustCLI(t, env, "pat", "create", "--name", "laptop", "--expires-in", "30d", "--json")), &pat)
			if out := mustCLI(t, env, "__complete", "pat", "delete", ""); !strings.Contains(out, fmt.Sprintf("%d\tlaptop", pat.ID)) {
				t.Errorf("completion of pat delete printed %q, want %d with its name", out, pat.ID)
			}
			if out := mustCLI(t, env, "__complete", "service-token", "create", "--grant", "job_"); !strings.Contains(out, "job_admin\tJob Admin") {
				t.Errorf("completion of --grant printed %q, want job_admin", out)
			}

			// The inventory and bulk revoke.
			var inv []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "token", "list", "--json")), &inv); err != nil || len(inv) != 2 {
				t.Errorf("token list --json: got %+v (%v), want the init token and laptop", inv, err)
			}
			if out := mustCLI(t, env, "token", "list", "--unused-for", "1d"); !strings.Contains(out, "laptop") {
				t.Errorf("token list --unused-for 1d printed %q, want the never-used laptop", out)
			}
			if out := mustCLI(t, env, "token", "revoke", fmt.Sprint(pat.ID), "--yes"); !strings.Contains(out, "laptop") || ok(pat.TokenString) {
				t.Errorf("token revoke printed %q, token works %v; want it revoked", out, ok(pat.TokenString))
			}

			// api: any route with the stored token; {account_id} filled in.
			var who struct {
				Data struct {
					User struct{ Email string }
				}
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "api", "/api/v3/whoami/")), &who); err != nil || who.Data.User.Email != "paul@example.com" {
				t.Errorf("api whoami: got %+v (%v)", who, err)
			}
			out = mustCLI(t, env, "api", "/api/v3/accounts/{account_id}/service-tokens/", "-F", "name=from api",
				"-F", `permission_grants=[{"permission_set": "readonly"}]`)
			if !strings.Contains(out, `"from api"`) || !strings.Contains(out, `"token_string": "dbtc_`) {
				t.Errorf("api POST printed %q, want the created token", out)
			}
			if r := cli(t, "", env, "api", "/api/v3/accounts/999999/"); exitStatus(r.err) != exitError || !strings.Contains(r.stdout, `"is_success": false`) {
				t.Errorf("api on a 4xx: got exit %d, stdout %q; want 1 and the body", exitStatus(r.err), r.stdout)
			}
			bad := append(env[:2:2], "TOKEND_TOKEN=dbtu_"+strings.Repeat("a", 50))
			if r := cli(t, "", bad, "api", "/api/v3/whoami/"); exitStatus(r.err) != exitAuth {
				t.Errorf("api with a refused token: got exit %d, want %d", exitStatus(r.err), exitAuth)
			}
			if r := cli(t, "", bad, "pat", "list"); exitStatus(r.err) != exitAuth {
				t.Errorf("pat list with a refused token: got exit %d, want %d", exitStatus(r.err), exitAuth)
			}

			// Recovery: an admin's reset link, redeemed through the API.
			var chani struct {
				ID int64 `json:"id"`
			}
			r := call(t, "POST", fmt.Sprintf("%s/api/v3/accounts/%d/users/", srv.url, a.AccountID), "Bearer "+a.Token,
				`{"email": "chani@example.com", "license_type": "developer", "password": "chani's password"}`)
			json.Unmarshal(r.Data, &chani)
			var link struct {
				URL string `json:"url"`
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "user", "reset-link", fmt.Sprint(chani.ID), "--expires-in", "2h", "--json")), &link); err != nil ||
				!strings.HasPrefix(link.URL, srv.url+"/password-reset#") {
				t.Fatalf("user reset-link: got %+v (%v), want a link to this server's reset page", link, err)
			}
			code := link.URL[strings.Index(link.URL, "#")+1:]
			if r := call(t, "POST", srv.url+"/api/tokend/v1/password-reset/", "", fmt.Sprintf(`{"code": %q, "new_password": "chani's new password"}`, code)); r.code != 200 {
				t.Errorf("redeem the link: got %d %s", r.code, r.Data)
			}

			// password change: the current password first, then the new one, on stdin.
			if r := cli(t, "not the password\nan entirely new password\n", env, "password", "change"); exitStatus(r.err) != exitError ||
				!strings.Contains(r.stderr, "The current password is not right.") {
				t.Errorf("password change with a wrong current one: got exit %d, stderr %q", exitStatus(r.err), r.stderr)
			}
			if r := cli(t, pw+"\nan entirely new password\n", env, "password", "change"); r.err != nil || !strings.Contains(r.stdout, "Password changed") {
				t.Fatalf("password change: got %v, stdout %q, stderr %q", r.err, r.stdout, r.stderr)
			}
			basic := func(pw string) int {
				return call(t, "POST", fmt.Sprintf("%s/api/v3/accounts/%d/users/%d/account-apikeys/", srv.url, a.AccountID, a.UserID),
					"Basic "+basicAuth("paul@example.com", pw), `{"name": "check"}`).code
			}
			if got := basic("an entirely new password"); got != 201 {
				t.Errorf("the new password: got %d, want 201", got)
			}
			srv.stop(t)

			// The operator's set-password, in the database: the user must exist, then the
			// password comes from stdin.
			if r := cli(t, "whatever password\n", nil, append([]string{"user", "set-password", "--email", "nobody@example.com"}, st.flags...)...); exitStatus(r.err) != exitError ||
				!strings.Contains(r.stderr, "no user has the e-mail nobody@example.com") {
				t.Errorf("set-password of an unknown e-mail: got exit %d, stderr %q", exitStatus(r.err), r.stderr)
			}
			r2 := cli(t, "the operator's password\n", nil, append([]string{"user", "set-password", "--email", "paul@example.com"}, st.flags...)...)
			if r2.err != nil || !strings.Contains(r2.stdout, "Set the password of paul@example.com") {
				t.Fatalf("set-password: got %v, stdout %q, stderr %q", r2.err, r2.stdout, r2.stderr)
			}
			// init --password on the existing e-mail sets it, and says so.
			var again struct {
				PasswordSet bool `json:"password_set"`
				UserCreated bool `json:"user_created"`
			}
			out = run(t, append([]string{"init", "--account-name", "Caladan", "--email", "paul@example.com", "--password", "the init password", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &again); err != nil || !again.PasswordSet || again.UserCreated {
				t.Errorf("init --password on an existing e-mail: got %s (%v), want password_set", out, err)
			}
			srv = startServer(t, st)
			for pw, want := range map[string]int{"the operator's password": 401, "the init password": 201} {
				if got := basic(pw); got != want {
					t.Errorf("sign-in with %q: got %d, want %d", pw, got, want)
				}
			}
			srv.stop(t)
			if anyToken.MatchString(srv.logs.String()) || strings.Contains(srv.logs.String(), code) {
				t.Errorf("a token or reset code reached the server log")
			}
		})
	}
}

func basicAuth(user, pw string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
}
