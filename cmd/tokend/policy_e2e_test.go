package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// tokend account policy get|set against a running server, on both stores: set changes only
// the policies named, get shows them in words or JSON, and refusals say why.
func TestCLIAccountPolicy(t *testing.T) {
	t.Parallel()
	for _, st := range storages(t) {
		t.Run(st.name, func(t *testing.T) {
			var a initResult
			out := run(t, append([]string{"init", "--account-name", "Giedi Prime", "--email", "feyd@example.com", "--json"}, st.flags...)...)
			if err := json.Unmarshal([]byte(out), &a); err != nil {
				t.Fatal(err)
			}
			srv := startServer(t, st)
			env := []string{"TOKEND_CONFIG=" + filepath.Join(t.TempDir(), "none.json"), "TOKEND_URL=" + srv.url, "TOKEND_TOKEN=" + a.Token}
			type policies struct {
				AccountID             int64 `json:"account_id"`
				PATMaxLifetimeSeconds int64 `json:"pat_max_lifetime_seconds"`
				InactivityDays        int   `json:"inactivity_days"`
				ReuseRevokesChain     bool  `json:"reuse_revokes_chain"`
				OverlapFromFirstUse   bool  `json:"overlap_from_first_use"`
			}
			get := func() policies {
				t.Helper()
				var p policies
				if err := json.Unmarshal([]byte(mustCLI(t, env, "account", "policy", "get", "--json")), &p); err != nil {
					t.Fatal(err)
				}
				return p
			}
			if got := get(); got != (policies{AccountID: a.AccountID}) {
				t.Errorf("a new account: got %+v, want every policy off", got)
			}
			mustCLI(t, env, "account", "policy", "set", "--pat-max-lifetime", "90d", "--inactivity-days", "60", "--reuse-revokes-chain")
			want := policies{AccountID: a.AccountID, PATMaxLifetimeSeconds: 90 * 86400, InactivityDays: 60, ReuseRevokesChain: true}
			if got := get(); got != want {
				t.Errorf("after set: got %+v, want %+v", got, want)
			}
			// Only the flags given change.
			out = mustCLI(t, env, "account", "policy", "set", "--overlap-from-first-use", "--reuse-revokes-chain=false")
			for _, line := range []string{"Maximum PAT lifetime", "90d", "disable after 60 days unused", "Reuse revokes the rotation chain  off", "Overlap starts at first use       on"} {
				if !strings.Contains(out, line) {
					t.Errorf("set printed %q, want it to contain %q", out, line)
				}
			}
			refused := []struct {
				name string
				args []string
				code int
				want string
			}{
				{"nothing to set", []string{"account", "policy", "set"}, exitUsage, "give at least one policy"},
				{"inactivity out of range", []string{"account", "policy", "set", "--inactivity-days", "7"}, exitError, "between 30 and 365 days"},
				{"a lifetime that is not one", []string{"account", "policy", "set", "--pat-max-lifetime", "soon"}, exitUsage, "is not a duration"},
			}
			for _, tt := range refused {
				r := cli(t, "", env, tt.args...)
				if exitStatus(r.err) != tt.code || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("%s: got exit %d, stderr %q; want %d saying %q", tt.name, exitStatus(r.err), r.stderr, tt.code, tt.want)
				}
			}
		})
	}
}
