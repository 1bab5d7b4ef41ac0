package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tokend/postgres/pgtest"
)

// binary is the tokend built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tokend-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tokend")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tokend:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// storage is one way to point the binary at a database: flags for every command.
type storage struct {
	name  string
	flags []string
}

func storages(t *testing.T) []storage {
	out := []storage{{"sqlite", []string{"--data-dir", t.TempDir()}}}
	if url, ok := pgtest.TrySchemaURL(t); ok {
		out = append(out, storage{"postgres", []string{"--database-url", url}})
	}
	return out
}

func run(t *testing.T, args ...string) (stdout string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tokend %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// cleanEnv keeps TOKEND_* settings of the developer's shell out of the tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKEND_") {
			env = append(env, kv)
		}
	}
	return env
}

// server is a running `tokend serve`.
type server struct {
	cmd    *exec.Cmd
	url    string
	stdout *syncBuffer
	logs   *syncBuffer
	done   chan error
}

var servingRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

func startServer(t *testing.T, st storage) *server {
	t.Helper()
	return startServerWith(t, st)
}

// startServerWith is startServer with more serve flags.
func startServerWith(t *testing.T, st storage, extra ...string) *server {
	t.Helper()
	return startBinary(t, binary, st, extra...)
}

// startBinary is startServerWith for another build of tokend (bin), for a test that must not
// swap the package's binary under the tests running beside it.
func startBinary(t *testing.T, bin string, st storage, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--usage-flush-interval", "200ms"}, st.flags...)
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	s := &server{cmd: cmd, stdout: &syncBuffer{}, logs: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = s.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			if m := servingRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case err := <-s.done:
		t.Fatalf("tokend serve exited: %v\n%s", err, s.logs.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tokend serve did not start in 30s\n%s", s.logs.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("tokend serve exited with %v after SIGTERM\n%s", err, s.logs.String())
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatal("tokend serve did not stop within 30s of SIGTERM")
	}
}

type apiResponse struct {
	code   int
	header http.Header
	Status struct {
		Code        int    `json:"code"`
		IsSuccess   bool   `json:"is_success"`
		UserMessage string `json:"user_message"`
	} `json:"status"`
	Data json.RawMessage `json:"data"`
}

func call(t *testing.T, method, url, auth, body string) apiResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r apiResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("%s %s: not the envelope: %v\n%s", method, url, err, raw)
	}
	r.code, r.header = resp.StatusCode, resp.Header
	return r
}

type initResult struct {
	AccountID int64  `json:"account_id"`
	UserID    int64  `json:"user_id"`
	Token     string `json:"token"`
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			if out := run(t, append([]string{"migrate"}, st.flags...)...); !strings.Contains(out, "up to date") {
				t.Errorf("got migrate output %q, want it to say the database is up to date", out)
			}
			var a, b initResult
			out := run(t, append([]string{"init", "--account-name", "Spice Harvesting", "--plan", "enterprise",
				"--email", "paul@example.com", "--password", "a long enough password", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &a); err != nil || a.AccountID == 0 || a.UserID == 0 || a.Token == "" {
				t.Fatalf("init --json printed %q (%v), want one object with account_id, user_id and token", out, err)
			}
			out = run(t, append([]string{"init", "--account-name", "Guild Navigator", "--plan", "team",
				"--email", "PAUL@example.com", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &b); err != nil {
				t.Fatal(err)
			}
			if b.UserID != a.UserID || b.AccountID == a.AccountID {
				t.Fatalf("second init: got user %d account %d, want user %d in a new account", b.UserID, b.AccountID, a.UserID)
			}

			srv := startServer(t, st)
			if strings.Contains(srv.stdout.String(), "owner PAT") {
				t.Errorf("serve bootstrapped a database that already had accounts")
			}
			if r := call(t, "GET", srv.url+"/healthz", "", ""); r.code != 200 {
				t.Errorf("healthz: got %d, want 200", r.code)
			}
			if r := call(t, "GET", srv.url+"/readyz", "", ""); r.code != 200 {
				t.Errorf("readyz: got %d, want 200", r.code)
			}
			for _, scheme := range []string{"Token ", "Bearer "} {
				r := call(t, "GET", srv.url+"/api/v2/accounts/", scheme+a.Token, "")
				var accts []struct {
					ID int64 `json:"id"`
				}
				json.Unmarshal(r.Data, &accts)
				if r.code != 200 || len(accts) != 1 || accts[0].ID != a.AccountID {
					t.Errorf("%sGET /api/v2/accounts/: got %d %s, want 200 with account %d only", scheme, r.code, r.Data, a.AccountID)
				}
			}
			if r := call(t, "GET", fmt.Sprintf("%s/api/v3/accounts/%d/", srv.url, b.AccountID), "Token "+a.Token, ""); r.code != 403 {
				t.Errorf("PAT of account A on account B: got %d, want 403", r.code)
			}
			for name, tok := range map[string]string{"wrong": "dbtu_" + strings.Repeat("a", 50), "malformed": "nonsense"} {
				r := call(t, "GET", srv.url+"/api/v2/accounts/", "Token "+tok, "")
				if r.code != 401 || r.Status.UserMessage != "Invalid token." || string(r.Data) != "null" || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s token: got %d %q data %s, want the 401 envelope", name, r.code, r.Status.UserMessage, r.Data)
				}
			}

			// Delete (revoke) B's token; it stops at once.
			if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+b.Token, ""); r.code != 200 {
				t.Fatalf("whoami: got %d, want 200", r.code)
			}
			if r := call(t, "POST", srv.url+"/api/tokend/v1/revoke", "", fmt.Sprintf(`{"token":%q}`, b.Token)); r.code != 200 {
				t.Fatalf("revoke: got %d, want 200", r.code)
			}
			if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Bearer "+b.Token, ""); r.code != 401 {
				t.Errorf("revoked token: got %d, want 401", r.code)
			}
			srv.stop(t)
			if strings.Contains(srv.logs.String(), a.Token[5:]) {
				t.Errorf("a token reached the server log")
			}

			// A restart keeps everything; the revoked token stays revoked.
			srv = startServer(t, st)
			if r := call(t, "GET", srv.url+"/api/v3/accounts/", "Bearer "+a.Token, ""); r.code != 200 {
				t.Errorf("after restart: got %d, want 200", r.code)
			}
			if r := call(t, "GET", srv.url+"/api/v3/accounts/", "Bearer "+b.Token, ""); r.code != 401 {
				t.Errorf("revoked token after restart: got %d, want 401", r.code)
			}
			srv.stop(t)
		})
	}
}

var patRE = regexp.MustCompile(`owner PAT:\s+(dbtu_\S+)`)

func TestServeBootstrapsEmptyDatabase(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			// stdout is not a terminal here: the credentials go to a file, not to the output.
			creds := filepath.Join(t.TempDir(), "creds", "initial-credentials")
			st.flags = append(st.flags, "--credentials-file", creds)
			srv := startServer(t, st)
			b, err := os.ReadFile(creds)
			if err != nil {
				t.Fatalf("credentials file: %v\nstdout: %s", err, srv.stdout.String())
			}
			m := patRE.FindStringSubmatch(string(b))
			if m == nil {
				t.Fatalf("credentials file holds %q, want an owner PAT", b)
			}
			for _, want := range []string{"URL:", "owner:", "password:"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("credentials file lacks %q:\n%s", want, b)
				}
			}
			if fi, err := os.Stat(creds); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("credentials file: got mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
			if out := srv.stdout.String() + srv.logs.String(); anyToken.MatchString(out) || strings.Contains(out, "password:") {
				t.Errorf("a credential reached stdout or the log:\n%s", out)
			}
			if !strings.Contains(srv.logs.String(), "credentials_file="+creds) || !strings.Contains(srv.stdout.String(), creds) {
				t.Errorf("the log and stdout do not say where the credentials are:\n%s\n%s", srv.logs.String(), srv.stdout.String())
			}
			if r := call(t, "GET", srv.url+"/api/v3/whoami/", "Token "+m[1], ""); r.code != 200 {
				t.Errorf("bootstrap PAT: got %d, want 200", r.code)
			}
			srv.stop(t)
			// The second start writes nothing: the token is shown once.
			os.Remove(creds)
			srv = startServer(t, st)
			if _, err := os.Stat(creds); err == nil || strings.Contains(srv.stdout.String(), "owner PAT") {
				t.Errorf("second start wrote credentials again")
			}
			srv.stop(t)
		})
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
