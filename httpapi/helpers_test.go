package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"tokend"
	"tokend/secret"
)

// mintPAT stores a personal access token of userID for accountID straight in the store, as the
// service issues them, and returns the token string.
func mintPAT(t testing.TB, e *env, accountID tokend.AccountID, userID tokend.UserID) string {
	t.Helper()
	return mintPATAt(t, e, accountID, userID, time.Now())
}

// mintPATAt is mintPAT with the token created at now.
func mintPATAt(t testing.TB, e *env, accountID tokend.AccountID, userID tokend.UserID, now time.Time) string {
	t.Helper()
	tok, uid, err := secret.Generate(rand.Reader, secret.PAT, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := secret.Hash(tok)
	now = now.UTC().Truncate(time.Microsecond)
	err = e.store.CreateToken(context.Background(), &tokend.Token{Kind: tokend.KindPAT, AccountID: accountID,
		UserID: userID, CreatedBy: userID, UID: uid, Name: "test", Hash: h[:], State: tokend.StateActive,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// doNoBody sends a request whose answer may have no body (a 204) and returns status and body.
func (e *env) doNoBody(method, path, auth string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// userBody is the part of dbt's UserResponse the tests look at.
type userBody struct {
	ID          int64            `json:"id"`
	Email       string           `json:"email"`
	FirstName   string           `json:"first_name"`
	LastName    string           `json:"last_name"`
	IsActive    bool             `json:"is_active"`
	Permissions []permissionBody `json:"permissions"`
}

// permissionBody is one element of permissions[]: a user license.
type permissionBody struct {
	ID          int64  `json:"id"`
	AccountID   int64  `json:"account_id"`
	UserID      int64  `json:"user_id"`
	LicenseType string `json:"license_type"`
	State       int    `json:"state"`
	Groups      []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"groups"`
}

func (p permissionBody) groupNames() []string {
	var out []string
	for _, g := range p.Groups {
		out = append(out, g.Name)
	}
	return out
}

// addUser adds a user to accountID through the API and returns them.
func addUser(t testing.TB, e *env, tok string, accountID tokend.AccountID, body string) userBody {
	t.Helper()
	r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/users/", accountID), bearer(tok), body)
	if r.Code != http.StatusCreated {
		t.Fatalf("add user: got %d, want 201: %s", r.Code, r.Raw)
	}
	var u userBody
	r.data(t, &u)
	return u
}

// groupID returns the id of the account's active group called name.
func groupID(t testing.TB, e *env, accountID tokend.AccountID, name string) int64 {
	t.Helper()
	gs, _, err := e.store.ListGroups(context.Background(), tokend.GroupFilter{AccountID: accountID,
		State: tokend.StateActive, Page: tokend.Page{Limit: tokend.MaxLimit}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Name == name {
			return int64(g.ID)
		}
	}
	t.Fatalf("account %d has no group %q", accountID, name)
	return 0
}

// setGroups makes groupIDs the user's exact groups in the account.
func setGroups(t testing.TB, e *env, accountID tokend.AccountID, userID tokend.UserID, groupIDs ...tokend.GroupID) {
	t.Helper()
	if err := e.store.SetUserGroups(context.Background(), accountID, userID, groupIDs); err != nil {
		t.Fatal(err)
	}
}

// auditActions returns the actions of the account's audit events, newest first.
func auditActions(t testing.TB, e *env, accountID tokend.AccountID) []string {
	t.Helper()
	evs, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: accountID,
		Page: tokend.Page{Limit: tokend.MaxLimit}})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Action
	}
	return out
}

// joinElsewhere adds user userID, who has a user in another account, to accountID the only way
// there is: an admin invites them (202, nothing of the user shown) and they accept with
// userTok, a PAT of theirs. It returns the user as the account sees them.
func joinElsewhere(t testing.TB, e *env, adminTok string, accountID tokend.AccountID, body string, userID tokend.UserID, userTok string) userBody {
	t.Helper()
	r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/users/", accountID), bearer(adminTok), body)
	if r.Code != http.StatusAccepted {
		t.Fatalf("add user: got %d, want 202 (an invitation): %s", r.Code, r.Raw)
	}
	var inv struct {
		ID int64 `json:"id"`
	}
	r.data(t, &inv)
	r = e.do("POST", fmt.Sprintf("/api/tokend/v1/users/%d/invites/%d/accept/", userID, inv.ID), bearer(userTok), "")
	if r.Code != http.StatusOK {
		t.Fatalf("accept: got %d, want 200: %s", r.Code, r.Raw)
	}
	r = e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/users/%d/", accountID, userID), bearer(adminTok), "")
	if r.Code != http.StatusOK {
		t.Fatalf("get user: got %d, want 200: %s", r.Code, r.Raw)
	}
	var u userBody
	r.data(t, &u)
	return u
}

// basicAuth is an HTTP Basic Authorization header.
func basicAuth(email, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+pw))
}
