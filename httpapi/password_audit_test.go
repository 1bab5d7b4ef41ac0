package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"tokend"
)

// Anonymous callers of the Basic PAT path choose the account, the user and the e-mail: nothing
// they type may land in an account's audit log. A wrong password of the member the path names is
// still recorded, by user id.
func TestPasswordRefusalsStoreNothingTyped(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		owner := e.initAccount("Arrakis", "paul@example.com")
		other := e.initAccount("Giedi Prime", "feyd@example.com")
		path := func(accountID tokend.AccountID, userID tokend.UserID) string {
			return fmt.Sprintf("/api/v3/accounts/%d/users/%d/account-apikeys/", accountID, userID)
		}
		const typed = "hunter2-typed-as-email"
		tests := []struct {
			name          string
			accountID     int64
			userID        int64
			email         string
			wantRefusals  int
			wantInAccount int64
		}{
			{"a password typed as the e-mail", int64(owner.Account.ID), int64(owner.User.ID), typed, 0, int64(owner.Account.ID)},
			{"an unknown e-mail", int64(owner.Account.ID), int64(owner.User.ID), "nobody@example.com", 0, int64(owner.Account.ID)},
			{"a member's e-mail in an account they are not in", int64(other.Account.ID), int64(owner.User.ID), "paul@example.com", 0, int64(other.Account.ID)},
			{"the member's own e-mail, wrong password", int64(owner.Account.ID), int64(owner.User.ID), "paul@example.com", 1, int64(owner.Account.ID)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := refusals(t, e, tokend.AccountID(tt.wantInAccount))
				req, err := http.NewRequest("POST", e.srv.URL+path(tokend.AccountID(tt.accountID), tokend.UserID(tt.userID)), strings.NewReader(`{"name": "x"}`))
				if err != nil {
					t.Fatal(err)
				}
				req.SetBasicAuth(tt.email, "wrong password")
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("User-Agent", typed+"-agent")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("got %d, want 401", resp.StatusCode)
				}
				if got := refusals(t, e, tokend.AccountID(tt.wantInAccount)) - before; got != tt.wantRefusals {
					t.Errorf("got %d new refusal events, want %d", got, tt.wantRefusals)
				}
			})
		}
		for _, acct := range []tokend.AccountID{owner.Account.ID, other.Account.ID, 0} {
			evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: acct, Page: tokend.Page{Limit: tokend.MaxLimit}})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if s := fmt.Sprint(ev.Detail, ev.UserAgent); strings.Contains(s, typed) || strings.Contains(s, "nobody@") {
					t.Errorf("account %d: event %s holds typed text: %s", acct, ev.Action, s)
				}
			}
		}
	})
}

func refusals(t testing.TB, e *env, accountID tokend.AccountID) int {
	t.Helper()
	_, n, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: accountID, Action: "auth.password_refused"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
