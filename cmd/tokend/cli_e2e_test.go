package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliResult is one run of the binary as a client.
type cliResult struct {
	stdout, stderr string
	err            error
}

// cli runs the binary with stdin and extra environment (on top of cleanEnv), and does not fail
// the test when the command fails: some cases want that.
func cli(t *testing.T, stdin string, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return cliResult{out.String(), errb.String(), err}
}

// mustCLI is cli for a command that must succeed.
func mustCLI(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := cli(t, "", env, args...)
	if r.err != nil {
		t.Fatalf("tokend %s: %v\n%s", strings.Join(args, " "), r.err, r.stderr)
	}
	return r.stdout
}

func readConfig(t *testing.T, path string) cliConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c cliConfig
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("config file: %v\n%s", err, b)
	}
	return c
}

type patOut struct {
	ID          int64  `json:"id"`
	UID         string `json:"uid"`
	Name        string `json:"name"`
	State       int    `json:"state"`
	TokenString string `json:"token_string"`
	ExpiresAt   string `json:"expires_at"`
}

var anyToken = regexp.MustCompile(`dbtu_[A-Za-z0-9]{49,50}\b`)

func TestCLI(t *testing.T) {
	t.Parallel()
	const pw = "a long enough password"
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var a initResult
			out := run(t, append([]string{"init", "--account-name", "Spice Harvesting", "--plan", "enterprise",
				"--email", "paul@example.com", "--password", pw, "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &a); err != nil || a.AccountID == 0 || a.UserID == 0 {
				t.Fatalf("init --json printed %q (%v), want account_id and user_id", out, err)
			}
			srv := startServer(t, st)
			cfgPath := filepath.Join(t.TempDir(), "tokend", "config.json")
			env := []string{"TOKEND_CONFIG=" + cfgPath}
			login := []string{"login", "--with-password", "--url", srv.url + "/", "--email", "paul@example.com",
				"--account-id", fmt.Sprint(a.AccountID), "--user-id", fmt.Sprint(a.UserID)}
			ok := func(tok string) bool {
				return call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+tok, "").code == 200
			}

			// Refused sign-ins write nothing.
			refused := []struct {
				name, stdin string
				env         []string
				want        string
			}{
				{"wrong password on stdin", "not the password\n", nil, "Invalid e-mail or password."},
				{"wrong password in TOKEND_PASSWORD", "", []string{"TOKEND_PASSWORD=not the password"}, "Invalid e-mail or password."},
				{"no password", "", nil, "no password"},
			}
			for _, tt := range refused {
				t.Run(tt.name, func(t *testing.T) {
					r := cli(t, tt.stdin, append(env, tt.env...), login...)
					if r.err == nil || !strings.Contains(r.stderr, tt.want) {
						t.Errorf("got err %v, stderr %q, want a failure saying %q", r.err, r.stderr, tt.want)
					}
					if _, err := os.Stat(cfgPath); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("config file after a refused login: got %v, want none", err)
					}
				})
			}
			if r := cli(t, "", env, "login", "--with-password", "--url", srv.url, "--email", "paul@example.com"); r.err == nil ||
				!strings.Contains(r.stderr, "--account-id (TOKEND_ACCOUNT_ID), --user-id (TOKEND_USER_ID)") {
				t.Errorf("login without ids: got err %v, stderr %q, want it to name both flags", r.err, r.stderr)
			}

			// Login with the password on stdin.
			r := cli(t, pw+"\n", env, login...)
			if r.err != nil {
				t.Fatalf("login: %v\n%s", r.err, r.stderr)
			}
			if want := fmt.Sprintf("Logged in as paul@example.com to account %d (token uid ", a.AccountID); !strings.Contains(r.stdout, want) {
				t.Errorf("login printed %q, want %q", r.stdout, want)
			}
			if anyToken.MatchString(r.stdout + r.stderr) {
				t.Errorf("login printed a token: %q %q", r.stdout, r.stderr)
			}
			for path, want := range map[string]fs.FileMode{cfgPath: 0o600, filepath.Dir(cfgPath): 0o700} {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
					t.Errorf("%s: got mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
				}
			}
			cfg := readConfig(t, cfgPath)
			if cfg.URL != srv.url || cfg.AccountID != a.AccountID || cfg.UserID != a.UserID || cfg.TokenUID == "" ||
				!strings.Contains(r.stdout, cfg.TokenUID) || !ok(cfg.Token) {
				t.Fatalf("config: got %+v, want the server, ids and a working token whose uid login printed", cfg)
			}
			cliToken := cfg.Token

			// whoami, in both formats.
			out = mustCLI(t, env, "whoami")
			for _, want := range []string{"paul@example.com", "Spice Harvesting", cfg.TokenUID} {
				if !strings.Contains(out, want) {
					t.Errorf("whoami printed %q, want %q in it", out, want)
				}
			}
			var w struct {
				User  struct{ ID int64 }
				Token struct{ UID string }
			}
			if err := json.Unmarshal([]byte(mustCLI(t, env, "whoami", "--json")), &w); err != nil || w.User.ID != a.UserID || w.Token.UID != cfg.TokenUID {
				t.Errorf("whoami --json: got %+v (%v), want user %d and uid %s", w, err, a.UserID, cfg.TokenUID)
			}

			// A config file others can read is refused, with the fix.
			if err := os.Chmod(cfgPath, 0o644); err != nil {
				t.Fatal(err)
			}
			if r := cli(t, "", env, "whoami"); r.err == nil || !strings.Contains(r.stderr, "chmod 600 "+cfgPath) {
				t.Errorf("world-readable config: got err %v, stderr %q, want a refusal saying chmod 600", r.err, r.stderr)
			}
			os.Chmod(cfgPath, 0o600)
			// The config's token goes to the config's server only.
			if r := cli(t, "", env, "whoami", "--url", "http://127.0.0.1:1"); r.err == nil || !strings.Contains(r.stderr, "not http://127.0.0.1:1") {
				t.Errorf("another --url: got err %v, stderr %q, want a refusal to send the token there", r.err, r.stderr)
			}

			// pat create: JSON gives a working token; the table says it is shown once.
			var ci patOut
			if err := json.Unmarshal([]byte(mustCLI(t, env, "pat", "create", "--name", "ci", "--json")), &ci); err != nil ||
				ci.Name != "ci" || !ok(ci.TokenString) {
				t.Fatalf("pat create --json: got %+v (%v), want a working token named ci", ci, err)
			}
			out = mustCLI(t, env, "pat", "create", "--name", "laptop", "--expires-in", "30d")
			if !anyToken.MatchString(out) || !strings.Contains(out, "only time") || strings.Contains(out, "expires never") {
				t.Errorf("pat create printed %q, want the token, a shown-once warning and an expiry", out)
			}

			// pat list: both formats, the CLI's own token marked.
			out = mustCLI(t, env, "pat", "list")
			for _, want := range []string{"ci", "laptop", "(this CLI)", cfg.TokenUID} {
				if !strings.Contains(out, want) {
					t.Errorf("pat list printed %q, want %q in it", out, want)
				}
			}
			var list []patOut
			if err := json.Unmarshal([]byte(mustCLI(t, env, "pat", "list", "--json")), &list); err != nil || len(list) != 4 {
				t.Errorf("pat list --json: got %d tokens (%v), want 4 (owner, CLI, ci, laptop)", len(list), err)
			}

			// pat rotate: the old token stops, the new one works.
			var ci2 patOut
			if err := json.Unmarshal([]byte(mustCLI(t, env, "pat", "rotate", fmt.Sprint(ci.ID), "--json")), &ci2); err != nil ||
				ci2.ID == ci.ID || ci2.Name != "ci" {
				t.Fatalf("pat rotate --json: got %+v (%v), want a new PAT named ci", ci2, err)
			}
			if ok(ci.TokenString) || !ok(ci2.TokenString) {
				t.Errorf("after rotate: old works %v, new works %v; want only the new", ok(ci.TokenString), ok(ci2.TokenString))
			}

			// Rotating the CLI's own token updates the config file.
			out = mustCLI(t, env, "pat", "rotate", fmt.Sprint(cfg.TokenID))
			cfg = readConfig(t, cfgPath)
			if cfg.Token == cliToken || !strings.Contains(out, cfg.Token) || !strings.Contains(out, "config file now holds") {
				t.Errorf("rotate of the CLI's token printed %q, config token changed %v; want the new token printed and stored",
					out, cfg.Token != cliToken)
			}
			if ok(cliToken) || !ok(cfg.Token) {
				t.Errorf("after rotating the CLI's token: old works %v, new works %v; want only the new", ok(cliToken), ok(cfg.Token))
			}
			if fi, err := os.Stat(cfgPath); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("config after rotate: got mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
			mustCLI(t, env, "whoami")

			// pat delete.
			out = mustCLI(t, env, "pat", "delete", fmt.Sprint(ci2.ID), "--yes")
			if !strings.Contains(out, "Deleted") || ok(ci2.TokenString) {
				t.Errorf("pat delete printed %q, token works %v; want it deleted", out, ok(ci2.TokenString))
			}

			// A token from the environment, without a config file.
			tokEnv := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_URL=" + srv.url, "TOKEND_TOKEN=" + a.Token}
			if out := mustCLI(t, tokEnv, "pat", "list"); !strings.Contains(out, "laptop") {
				t.Errorf("pat list with TOKEND_TOKEN printed %q, want laptop in it", out)
			}

			// logout deletes the CLI's token on the server and forgets it.
			cliToken = cfg.Token
			if out := mustCLI(t, env, "logout"); !strings.Contains(out, "Logged out") {
				t.Errorf("logout printed %q", out)
			}
			if ok(cliToken) {
				t.Errorf("the CLI's token works after logout")
			}
			if cfg = readConfig(t, cfgPath); cfg.Token != "" || cfg.TokenUID != "" || cfg.URL != srv.url {
				t.Errorf("config after logout: got %+v, want the server without a token", cfg)
			}
			if r := cli(t, "", env, "whoami"); r.err == nil || !strings.Contains(r.stderr, "not logged in") {
				t.Errorf("whoami after logout: got err %v, stderr %q, want not logged in", r.err, r.stderr)
			}

			// Logging in again takes the server and ids from the config; a second login retires
			// the first token.
			r = cli(t, "", append(env, "TOKEND_PASSWORD="+pw), "login", "--with-password")
			if r.err != nil {
				t.Fatalf("login again: %v\n%s", r.err, r.stderr)
			}
			first := readConfig(t, cfgPath).Token
			if r = cli(t, pw+"\n", env, "login", "--with-password"); r.err != nil {
				t.Fatalf("third login: %v\n%s", r.err, r.stderr)
			}
			if second := readConfig(t, cfgPath).Token; ok(first) || !ok(second) {
				t.Errorf("after a second login: first works %v, second works %v; want only the second", ok(first), ok(second))
			}

			srv.stop(t)
			if anyToken.MatchString(srv.logs.String()) {
				t.Errorf("a token reached the server log")
			}
		})
	}
}
