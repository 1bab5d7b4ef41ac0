package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/jackc/pgx/v5"
)

// exitStatus is a finished command's exit code (0 for success, -1 when it did not run).
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// TestSchemaNewerRefused runs an older binary on a database a newer one migrated: migrate,
// serve and migrate status refuse it with exit 1 instead of saying "up to date".
func TestSchemaNewerRefused(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			run(t, append([]string{"migrate"}, st.flags...)...)
			var ms []struct {
				Version int64  `json:"version"`
				State   string `json:"state"`
			}
			out := run(t, append([]string{"migrate", "status", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) == 0 {
				t.Fatalf("migrate status --json: got %q (%v)", out, err)
			}
			for _, m := range ms {
				if m.State != "applied" {
					t.Errorf("after migrate: got migration %d %s, want applied", m.Version, m.State)
				}
			}
			newer := ms[len(ms)-1].Version + 1
			addVersion(t, st, newer)

			for _, args := range [][]string{{"migrate"}, {"serve", "--addr", "127.0.0.1:0"}, {"migrate", "status"}} {
				r := cli(t, "", nil, append(args, st.flags...)...)
				want := fmt.Sprintf("schema is at version %d, newer than this tokend knows", newer)
				if exitStatus(r.err) != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stdout, "up to date") {
					t.Errorf("tokend %s: got exit %d, stdout %q, stderr %q; want exit 1 saying %q",
						strings.Join(args, " "), exitStatus(r.err), r.stdout, r.stderr, want)
				}
			}
		})
	}
}

// addVersion records a migration this binary does not have, as a newer tokend would.
func addVersion(t *testing.T, st storage, v int64) {
	t.Helper()
	if st.name == "sqlite" {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(st.flags[1], "tokend.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, v); err != nil {
			t.Fatal(err)
		}
		return
	}
	conn, err := pgx.Connect(t.Context(), st.flags[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, v); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateStatusPending(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := run(t, "migrate", "status", "--data-dir", dir)
	if !strings.Contains(out, "pending") || !strings.Contains(out, "00001_schema.sql") {
		t.Errorf("migrate status on an empty data dir printed %q, want every migration pending", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "tokend.db")); err == nil {
		t.Errorf("migrate status created the database")
	}
}

// TestBackupRestore backs up a running server's database, restores it elsewhere and serves it.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := storage{"sqlite", []string{"--data-dir", dir}}
	var a initResult
	out := run(t, "init", "--account-name", "Arrakis", "--email", "liet@example.com", "--json", "--data-dir", dir)
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, st)
	backup := filepath.Join(t.TempDir(), "tokend-backup.db")
	// Online: the server keeps running and answering while the copy is taken.
	if out := run(t, "backup", "--data-dir", dir, "--output", backup); !strings.Contains(out, "Backed up") {
		t.Errorf("backup printed %q", out)
	}
	if r := call(t, "POST", srv.url+"/api/tokend/v1/revoke", "", fmt.Sprintf(`{"token":%q}`, a.Token)); r.code != 200 {
		t.Fatalf("revoke after the backup: got %d, want 200", r.code)
	}
	if r := cli(t, "", nil, "backup", "--data-dir", dir, "--output", backup); exitStatus(r.err) != 1 {
		t.Errorf("backup over an existing file: got exit %d, want 1", exitStatus(r.err))
	}
	if r := cli(t, "", nil, "restore", "--data-dir", dir, backup); exitStatus(r.err) != 1 || !strings.Contains(r.stderr, "stop the server") {
		t.Errorf("restore under a running server: got exit %d, stderr %q; want a refusal", exitStatus(r.err), r.stderr)
	}
	srv.stop(t)

	restored := t.TempDir()
	if out := run(t, "restore", "--data-dir", restored, backup); !strings.Contains(out, "Restored") {
		t.Errorf("restore printed %q", out)
	}
	srv = startServer(t, storage{"sqlite", []string{"--data-dir", restored}})
	// The restored database is the one from before the revocation: the token works there.
	if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+a.Token, ""); r.code != 200 {
		t.Errorf("token from the backup: got %d, want 200", r.code)
	}
	srv.stop(t)

	if r := cli(t, "", nil, "backup", "--database-url", "postgres://x@127.0.0.1/x", "--output", backup+"2"); exitStatus(r.err) != 1 ||
		!strings.Contains(r.stderr, "pg_dump") {
		t.Errorf("backup of PostgreSQL: got exit %d, stderr %q; want a pointer to pg_dump", exitStatus(r.err), r.stderr)
	}
}

// TestVersion builds with VCS stamping and checks that version and /readyz name the commit.
func TestVersion(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v (the test runs in a git checkout)", err)
	}
	commit := strings.TrimSpace(string(head))
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The go command stamps VCS information only in a checkout whose .git is a directory, not
	// in a linked worktree: build from a clone of HEAD.
	src := filepath.Join(t.TempDir(), "src")
	if out, err := exec.Command("git", "clone", "--quiet", "--shared", "--no-checkout", strings.TrimSpace(string(top)), src).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	if out, err := exec.Command("git", "-C", src, "checkout", "--quiet", commit).CombinedOutput(); err != nil {
		t.Fatalf("git checkout: %v\n%s", err, out)
	}
	// Bring the working tree along, uncommitted changes and all, so that the binary is this
	// code and its dirty flag says whether the tree differs from HEAD.
	files, err := exec.Command("git", "-C", strings.TrimSpace(string(top)), "ls-files", "-co", "--exclude-standard", "-z").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(top)), f))
		if err != nil {
			continue // deleted in the working tree
		}
		os.MkdirAll(filepath.Dir(filepath.Join(src, f)), 0o755)
		if err := os.WriteFile(filepath.Join(src, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	status, err := exec.Command("git", "-C", src, "status", "--porcelain").Output()
	if err != nil {
		t.Fatal(err)
	}
	dirty := len(status) > 0
	bin := filepath.Join(t.TempDir(), "tokend")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/tokend")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("version --json: %v", err)
	}
	var v struct {
		Version, Commit string
		Dirty           *bool
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Commit != commit || v.Dirty == nil || *v.Dirty != dirty || v.Version == "" {
		t.Fatalf("version --json: got %s (%v), want commit %s, dirty %v", out, err, commit, dirty)
	}
	out, _ = exec.Command(bin, "version").Output()
	if !strings.Contains(string(out), "commit:  "+commit) {
		t.Errorf("version printed %q, want the commit %s", out, commit)
	}

	srv := startBinary(t, bin, storage{"sqlite", []string{"--data-dir", t.TempDir()}})
	r := call(t, "GET", srv.url+"/readyz", "", "")
	var ready struct {
		Status, Version, Commit string
	}
	if err := json.Unmarshal(r.Data, &ready); err != nil || r.code != 200 || ready.Commit != commit || ready.Version != v.Version {
		t.Errorf("readyz: got %d %s, want ready with version %s and commit %s", r.code, r.Data, v.Version, commit)
	}
	srv.stop(t)
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	env := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json")}
	tests := []struct {
		name string
		args []string
		env  []string
		want int
	}{
		{"unknown subcommand", []string{"pat", "lst"}, nil, exitUsage},
		{"unknown top-level command", []string{"lst"}, nil, exitUsage},
		{"unknown flag", []string{"version", "--bogus"}, nil, exitUsage},
		{"missing argument", []string{"pat", "delete"}, nil, exitUsage},
		{"malformed ID", []string{"pat", "delete", "seven"}, env, exitUsage},
		{"malformed service token ID", []string{"service-token", "permissions", "0", "--grant", "job_viewer"}, env, exitUsage},
		{"malformed token ID", []string{"token", "revoke", "x1"}, env, exitUsage},
		{"malformed webhook delivery ID", []string{"webhook", "redeliver", "3", "last"}, env, exitUsage},
		{"command group alone: help", []string{"pat"}, nil, exitOK},
		{"not logged in", []string{"pat", "list"}, append(env, "TOKEND_URL=http://127.0.0.1:1"), exitAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, "", tt.env, tt.args...)
			if got := exitStatus(r.err); got != tt.want {
				t.Errorf("tokend %s: got exit %d, want %d\n%s", strings.Join(tt.args, " "), got, tt.want, r.stderr)
			}
		})
	}
	// The server is checked before a password is asked for.
	r := cli(t, "", env, "login", "--with-password", "--url", "http://127.0.0.1:1", "--email", "a@example.com", "--account-id", "1", "--user-id", "1")
	if r.err == nil || !strings.Contains(r.stderr, "does not answer as a tokend server") || strings.Contains(r.stderr, "no password") {
		t.Errorf("login to no server: got err %v, stderr %q; want the server named before any password", r.err, r.stderr)
	}
	if r := cli(t, "", nil, "pat", "lst"); !strings.Contains(r.stderr, "Did you mean this?\n\tlist") {
		t.Errorf("pat lst: got stderr %q, want a suggestion of list", r.stderr)
	}
}

// TestSealUntaggedTokens: SQLite is sealed by its migration; PostgreSQL only by
// `migrate --seal-untagged-tokens`, which a second run finds done.
func TestSealUntaggedTokens(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			out := run(t, append([]string{"migrate"}, st.flags...)...)
			sealed := "Untagged tokens are sealed"
			if got, want := strings.Contains(out, sealed), st.name == "sqlite"; got != want {
				t.Errorf("migrate: got %q, want it to say %q: %v", out, sealed, want)
			}
			out = run(t, append([]string{"migrate", "--seal-untagged-tokens"}, st.flags...)...)
			if !strings.Contains(out, "Untagged tokens sealed") && !strings.Contains(out, sealed) {
				t.Errorf("migrate --seal-untagged-tokens: got %q, want it to say they are sealed", out)
			}
			if out := run(t, append([]string{"migrate"}, st.flags...)...); !strings.Contains(out, sealed) {
				t.Errorf("migrate after the seal: got %q, want it to say %q", out, sealed)
			}
		})
	}
}
