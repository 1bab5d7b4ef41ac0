package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tokend/secret"
)

// TestImportOldFormatTokens imports an old-format service token with the real binary, uses it
// (the slow path, which upgrades it), and checks what the API says about it.
func TestImportOldFormatTokens(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var owner initResult
			out := run(t, append([]string{"init", "--account-name", "Legacy Co", "--plan", "team",
				"--email", "ops@example.com", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &owner); err != nil {
				t.Fatal(err)
			}
			uid, tok := "OldUid42", "dbtc_OldUid42_"+strings.Repeat("s3cr3t", 5)
			hash, err := secret.SlowHash(rand.Reader, tok, 1000)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "tokens.json")
			body := fmt.Sprintf(`{"tokens": [{"account_id": %d, "uid": %q, "hash": %q, "name": "nightly export",
				"created_at": "2023-07-01T00:00:00Z", "permissions": [{"permission_set": "job_admin"}]}]}`, owner.AccountID, uid, hash)
			if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if out := run(t, append([]string{"import-tokens", file}, st.flags...)...); !strings.Contains(out, "uid "+uid) {
				t.Fatalf("import-tokens printed %q, want the imported uid", out)
			}

			srv := startServer(t, st)
			for i := range 2 { // the first use takes the slow path and upgrades; the second is fast
				if r := call(t, "GET", srv.url+"/api/v3/accounts/", "Token "+tok, ""); r.code != 200 {
					t.Fatalf("use %d of the imported token: got %d, want 200", i, r.code)
				}
			}
			if r := call(t, "GET", srv.url+"/api/v3/accounts/", "Token "+tok+"x", ""); r.code != 401 {
				t.Errorf("wrong secret: got %d, want 401", r.code)
			}
			r := call(t, "GET", fmt.Sprintf("%s/api/v3/accounts/%d/service-tokens/", srv.url, owner.AccountID), "Token "+owner.Token, "")
			var list []struct {
				UID               string `json:"uid"`
				LegacyFormat      bool   `json:"legacy_format"`
				RotateRecommended bool   `json:"rotate_recommended"`
				CreatedAt         string `json:"created_at"`
			}
			if err := json.Unmarshal(r.Data, &list); err != nil || len(list) != 1 {
				t.Fatalf("service tokens: got %s (%v), want one", r.Data, err)
			}
			if got := list[0]; got.UID != uid || !got.LegacyFormat || !got.RotateRecommended || !strings.HasPrefix(got.CreatedAt, "2023-07-01") {
				t.Errorf("got %+v, want uid %s marked legacy_format and rotate_recommended, created 2023-07-01", got, uid)
			}
			srv.stop(t)

			// A second import of the same uid is refused as a whole.
			cmdArgs := append([]string{"import-tokens", file}, st.flags...)
			if err := runErr(t, cmdArgs...); err == nil || !strings.Contains(err.Error(), "already taken") {
				t.Errorf("re-import: got %v, want an error saying the uid is taken", err)
			}
		})
	}
}

// runErr runs the binary and returns its failure with stderr, or nil.
func runErr(t *testing.T, args ...string) error {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}
