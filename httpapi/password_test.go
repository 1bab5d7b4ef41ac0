package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/password"
)

const initPassword = "a long enough password" // what env.initAccount gives the owner

// signIn opens a console session and returns its raw id, failing the test when refused.
func signIn(t *testing.T, e *env, email, pw string) string {
	t.Helper()
	_, raw, err := e.svc.SignIn(context.Background(), email, pw, "192.0.2.1", "test")
	if err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
	return raw
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		owner := e.initAccount("Arrakis", "paul@example.com")
		other := e.initAccount("Giedi Prime", "feyd@example.com")
		s1, s2 := signIn(t, e, "paul@example.com", initPassword), signIn(t, e, "paul@example.com", initPassword)
		theirs := signIn(t, e, "feyd@example.com", initPassword)
		path := fmt.Sprintf("/api/tokend/v1/users/%d/password/", owner.User.ID)
		body := func(cur, next string) string {
			b, _ := json.Marshal(map[string]string{"current_password": cur, "new_password": next})
			return string(b)
		}
		refused := []struct {
			name, path, auth, body string
			code                   int
			field                  string
		}{
			{"wrong current password", path, bearer(owner.Token), body("not the password", "a brand new password"), 400, "The current password is not right."},
			{"no current password", path, bearer(owner.Token), body("", "a brand new password"), 400, "Give your current password."},
			{"new password too short", path, bearer(owner.Token), body(initPassword, "short"), 400, "at least 10 characters"},
			{"same password", path, bearer(owner.Token), body(initPassword, initPassword), 400, "same as the current one"},
			{"someone else's", fmt.Sprintf("/api/tokend/v1/users/%d/password/", other.User.ID), bearer(owner.Token),
				body(initPassword, "a brand new password"), 403, "only your own password"},
			{"no token", path, "", body(initPassword, "a brand new password"), 401, ""},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", tt.path, tt.auth, tt.body)
				if r.Code != tt.code || !strings.Contains(r.Body.Status.UserMessage, tt.field) {
					t.Errorf("got %d %q, want %d saying %q", r.Code, r.Body.Status.UserMessage, tt.code, tt.field)
				}
			})
		}
		if _, _, err := e.svc.Session(context.Background(), s1); err != nil {
			t.Fatalf("a refused change ended a session: %v", err)
		}

		r := e.do("POST", path, bearer(owner.Token), body(initPassword, "a brand new password"))
		if r.Code != 200 {
			t.Fatalf("change password: got %d %s, want 200", r.Code, r.Raw)
		}
		if _, _, err := e.svc.SignIn(context.Background(), "paul@example.com", initPassword, "192.0.2.1", "test"); err == nil {
			t.Errorf("the old password still signs in")
		}
		signIn(t, e, "paul@example.com", "a brand new password")
		for name, raw := range map[string]string{"first": s1, "second": s2} {
			if _, _, err := e.svc.Session(context.Background(), raw); err == nil {
				t.Errorf("%s console session survived the password change", name)
			}
		}
		if _, _, err := e.svc.Session(context.Background(), theirs); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
		// Tokens are not sessions: the PAT that made the change still works.
		if r := e.do("GET", "/api/v3/whoami/", bearer(owner.Token), ""); r.Code != 200 {
			t.Errorf("the owner's PAT after the change: got %d, want 200", r.Code)
		}
		if n := auditCount(t, e, owner.Account.ID, "user.password_change"); n != 1 {
			t.Errorf("got %d user.password_change events, want 1", n)
		}
		if strings.Contains(e.logs.String(), "a brand new password") {
			t.Errorf("the new password reached the log")
		}
	})
}

func TestPasswordResetLink(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		owner := e.initAccount("Arrakis", "paul@example.com")
		victim := addUser(t, e, owner.Token, owner.Account.ID,
			`{"email": "chani@example.com", "license_type": "developer", "password": "chani's first password"}`)
		session := signIn(t, e, "chani@example.com", "chani's first password")
		issue := func(userID tokend.UserID, body string) *response {
			return e.do("POST", fmt.Sprintf("/api/tokend/v1/accounts/%d/users/%d/password-reset/", owner.Account.ID, userID),
				bearer(owner.Token), body)
		}
		var link struct {
			UserID    int64     `json:"user_id"`
			Code      string    `json:"code"`
			Path      string    `json:"path"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		r := issue(tokend.UserID(victim.ID), "")
		if r.Code != 201 {
			t.Fatalf("issue a reset link: got %d %s, want 201", r.Code, r.Raw)
		}
		r.data(t, &link)
		if link.Code == "" || link.Path != "/password-reset#"+link.Code || time.Until(link.ExpiresAt) < 23*time.Hour || time.Until(link.ExpiresAt) > 25*time.Hour {
			t.Fatalf("reset link: got %+v, want a code in the path's fragment, expiring in a day", link)
		}
		// Stored hashed: the store knows the code's SHA-256, and nothing answers to the code.
		h := sha256.Sum256([]byte(link.Code))
		if _, err := e.store.PasswordResetByHash(ctx, h[:]); err != nil {
			t.Errorf("no stored link under the code's SHA-256: %v", err)
		}
		if _, err := e.store.PasswordResetByHash(ctx, []byte(link.Code)); tokend.ErrorCode(err) != tokend.ENotFound {
			t.Errorf("a link stored under the code itself: got %v, want not found", err)
		}

		// A second link voids the first.
		first := link.Code
		issue(tokend.UserID(victim.ID), `{"expires_in": 3600}`).data(t, &link)
		if time.Until(link.ExpiresAt) > time.Hour+time.Minute {
			t.Errorf("expires_in 3600: got expiry %v, want within the hour", link.ExpiresAt)
		}
		redeem := func(code, pw string) *response {
			b, _ := json.Marshal(map[string]string{"code": code, "new_password": pw})
			return e.do("POST", "/api/tokend/v1/password-reset/", "", string(b))
		}
		refused := []struct {
			name, code, pw string
			want           int
			msg            string
		}{
			{"the replaced link", first, "chani's new password", 400, "not valid"},
			{"a made-up code", strings.Repeat("A", 43), "chani's new password", 400, "not valid"},
			{"not a code at all", "nonsense", "chani's new password", 400, "not valid"},
			{"a short password", link.Code, "short", 400, "at least 10 characters"},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				if r := redeem(tt.code, tt.pw); r.Code != tt.want || !strings.Contains(r.Body.Status.UserMessage, tt.msg) {
					t.Errorf("got %d %q, want %d saying %q", r.Code, r.Body.Status.UserMessage, tt.want, tt.msg)
				}
			})
		}

		// An expired link is refused, whatever else is right about it.
		late := tokend.NewService(e.store, tokend.Options{Now: func() time.Time { return time.Now().Add(2 * time.Hour) },
			PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
		if _, err := late.ResetPassword(ctx, link.Code, "chani's new password"); err != tokend.ErrBadResetLink {
			t.Errorf("an expired link: got %v, want ErrBadResetLink", err)
		}

		if r := redeem(link.Code, "chani's new password"); r.Code != 200 {
			t.Fatalf("redeem: got %d %s, want 200", r.Code, r.Raw)
		}
		signIn(t, e, "chani@example.com", "chani's new password")
		if _, _, err := e.svc.Session(ctx, session); err == nil {
			t.Errorf("the user's console session survived the reset")
		}
		if r := redeem(link.Code, "yet another password"); r.Code != 400 {
			t.Errorf("a used link: got %d, want 400", r.Code)
		}
		if n := auditCount(t, e, owner.Account.ID, "user.password_reset_link"); n != 2 {
			t.Errorf("got %d user.password_reset_link events, want 2", n)
		}
		if n := auditCount(t, e, owner.Account.ID, "user.password_reset"); n != 1 {
			t.Errorf("got %d user.password_reset events, want 1", n)
		}
		if strings.Contains(e.logs.String(), link.Code) || strings.Contains(e.logs.String(), first) {
			t.Errorf("a reset code reached the log")
		}

		// Refusals of the admin's request.
		elsewhere := e.initAccount("Caladan", "leto@example.com")
		// Leto owns Caladan and is a member here too (as after accepting an invitation).
		now := time.Now().UTC()
		if err := e.store.CreateMembership(ctx, &tokend.Membership{AccountID: owner.Account.ID, UserID: elsewhere.User.ID,
			License: "developer", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		both := elsewhere.User
		tests := []struct {
			name   string
			userID int64
			body   string
			code   int
			msg    string
		}{
			{"yourself", int64(owner.User.ID), "", 400, "change password"},
			{"a member of another account too", int64(both.ID), "", 403, "only an operator"},
			{"not a member", int64(elsewhere.User.ID + 1000), "", 404, "not a member"},
			{"a lifetime past a week", victim.ID, `{"expires_in": 700000}`, 400, "1 minute to 168 hours"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if r := issue(tokend.UserID(tt.userID), tt.body); r.Code != tt.code || !strings.Contains(r.Body.Status.UserMessage, tt.msg) {
					t.Errorf("got %d %q, want %d saying %q", r.Code, r.Body.Status.UserMessage, tt.code, tt.msg)
				}
			})
		}
	})
}

// TestInitPasswordOnExistingUser: init with --password on an existing e-mail sets it (and
// ends the user's sessions); the same password changes nothing.
func TestInitPasswordOnExistingUser(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.initAccount("Arrakis", "paul@example.com")
		session := signIn(t, e, "paul@example.com", initPassword)
		same, err := e.svc.Init(ctx, tokend.InitParams{AccountName: "Second", Plan: "enterprise", Email: "paul@example.com", Password: initPassword})
		if err != nil || same.PasswordSet || same.UserCreated {
			t.Fatalf("init with the same password: got %+v, %v; want the user reused, password untouched", same, err)
		}
		if _, _, err := e.svc.Session(ctx, session); err != nil {
			t.Errorf("init with the same password ended a session: %v", err)
		}
		res, err := e.svc.Init(ctx, tokend.InitParams{AccountName: "Third", Plan: "enterprise", Email: "paul@example.com", Password: "an operator's password"})
		if err != nil || !res.PasswordSet {
			t.Fatalf("init with a new password: got %+v, %v; want PasswordSet", res, err)
		}
		signIn(t, e, "paul@example.com", "an operator's password")
		if _, _, err := e.svc.Session(ctx, session); err == nil {
			t.Errorf("the session opened with the old password survived")
		}
	})
}

func auditCount(t *testing.T, e *env, accountID tokend.AccountID, action string) int {
	t.Helper()
	evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: accountID, Page: tokend.Page{Limit: tokend.MaxLimit}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Action == action {
			n++
		}
	}
	return n
}
