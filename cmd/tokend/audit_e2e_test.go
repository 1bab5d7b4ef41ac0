package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tokend audit list and export, run as the real binary against a real server.
func TestAuditCLI(t *testing.T) {
	t.Parallel()
	st := storage{"sqlite", []string{"--data-dir", t.TempDir()}}
	var a initResult
	mustJSON(t, run(t, append([]string{"init", "--account-name", "Sietch Tabr", "--email", "stilgar@example.com",
		"--password", browserPassword, "--json"}, st.flags...)...), &a)
	srv := startServer(t, st)
	for _, name := range []string{"Water", "Spice"} {
		createID(t, fmt.Sprintf("%s/api/v3/accounts/%d/projects/", srv.url, a.AccountID), "Token "+a.Token, `{"name": "`+name+`"}`)
	}
	env := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_URL=" + srv.url, "TOKEND_TOKEN=" + a.Token}

	t.Run("list", func(t *testing.T) {
		out := mustCLI(t, env, "audit", "list", "--event-type", "project.create")
		if !strings.Contains(out, "EVENT") || strings.Count(out, "project.create") != 2 {
			t.Errorf("got\n%s\nwant a table with the 2 projects created", out)
		}
	})
	t.Run("list --json with filters", func(t *testing.T) {
		var es []struct {
			EventType string `json:"event_type"`
		}
		out := mustCLI(t, env, "audit", "list", "--actor", fmt.Sprint(a.UserID), "--from", "2000-01-01", "--limit", "1", "--json")
		if err := json.Unmarshal([]byte(out), &es); err != nil || len(es) != 1 || es[0].EventType != "project.create" {
			t.Errorf("got %s (%v), want the newest event, a project.create", out, err)
		}
		out = mustCLI(t, env, "audit", "list", "--to", "2000-01-01", "--json")
		if strings.TrimSpace(out) != "[]" {
			t.Errorf("before 2000: got %s, want []", out)
		}
	})
	t.Run("export csv to a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.csv")
		r := cli(t, "", env, "audit", "export", "--format", "csv", "--event-type", "project.create", "-o", path)
		if r.err != nil {
			t.Fatalf("export: %v\n%s", r.err, r.stderr)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
			t.Errorf("file mode: got %v, want 0600", fi.Mode().Perm())
		}
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][0] != "id" {
			t.Errorf("got %v (%v), want a header and 2 events", rows, err)
		}
		if r := cli(t, "", env, "audit", "export", "--format", "csv", "-o", path); r.err == nil {
			t.Errorf("export over an existing file: got success, want a refusal")
		}
	})
	t.Run("export json to stdout", func(t *testing.T) {
		var es []map[string]any
		out := mustCLI(t, env, "audit", "export", "--format", "json")
		if err := json.Unmarshal([]byte(out), &es); err != nil || len(es) < 3 {
			t.Errorf("got %s (%v), want a JSON array of every event", out, err)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"format required", []string{"audit", "export"}, 2},
		{"bad format", []string{"audit", "export", "--format", "xlsx"}, 2},
		{"bad date", []string{"audit", "list", "--from", "yesterday"}, 2},
		{"refused token", []string{"audit", "list", "--token-uid", "x", "--url", srv.url}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env
			if tc.code == 4 {
				e = []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_TOKEN=dbtu_notavalidtoken00000000000000000000000000"}
			}
			r := cli(t, "", e, tc.args...)
			var ee *exec.ExitError
			if !errors.As(r.err, &ee) || ee.ExitCode() != tc.code {
				t.Errorf("got %v, want exit %d\n%s", r.err, tc.code, r.stderr)
			}
		})
	}
}
