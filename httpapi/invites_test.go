package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// An admin of account B who adds account A's user by e-mail learns nothing of that user and
// enrols nobody: the person gets an invitation and joins only by accepting it, once, in time.
func TestCrossAccountEnrolment(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a := e.initAccount("Arrakis", "paul@example.com")
		b := e.initAccount("Giedi Prime", "feyd@example.com")
		bid := b.Account.ID
		paul := a.User.ID

		r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/users/", bid), bearer(b.Token),
			`{"email": "Paul@example.com", "first_name": "Impostor", "license_type": "developer"}`)
		if r.Code != http.StatusAccepted {
			t.Fatalf("add A's user from B: got %d, want 202 (an invitation): %s", r.Code, r.Raw)
		}
		var inv struct {
			ID           int64  `json:"id"`
			AccountID    int64  `json:"account_id"`
			EmailAddress string `json:"email_address"`
			Status       int    `json:"status"`
		}
		r.data(t, &inv)
		if inv.AccountID != int64(bid) || inv.EmailAddress != "paul@example.com" || inv.Status != 1 {
			t.Errorf("got %+v, want a pending invitation of paul@example.com to account %d", inv, bid)
		}
		for _, leak := range []string{`"first_name"`, `"last_name"`, `"user_id"`, `"is_active"`, a.User.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000")} {
			if strings.Contains(string(r.Body.Data), leak) {
				t.Errorf("the answer reveals %s of A's user: %s", leak, r.Body.Data)
			}
		}

		t.Run("until accepted, the user is not a member of B", func(t *testing.T) {
			if _, err := e.store.Membership(ctx, bid, paul); tokend.ErrorCode(err) != tokend.ENotFound {
				t.Errorf("membership in B: got %v, want not found", err)
			}
			if r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", bid, paul), bearer(b.Token), ""); r.Code != http.StatusNotFound {
				t.Errorf("B reads A's user: got %d, want 404", r.Code)
			}
			u, err := e.store.User(ctx, paul)
			if err != nil {
				t.Fatal(err)
			}
			if u.FirstName == "Impostor" {
				t.Errorf("got first name %q, want A's user's own", u.FirstName)
			}
		})

		mine := fmt.Sprintf("/api/tokend/v1/users/%d/invites/", paul)
		accept := fmt.Sprintf("/api/tokend/v1/users/%d/invites/%d/accept/", paul, inv.ID)
		t.Run("the invited person sees it", func(t *testing.T) {
			r := e.do("GET", mine, bearer(a.Token), "")
			if r.Code != http.StatusOK {
				t.Fatalf("got %d: %s", r.Code, r.Raw)
			}
			var got []struct {
				ID      int64 `json:"id"`
				Account struct {
					Name string `json:"name"`
				} `json:"account"`
			}
			r.data(t, &got)
			if len(got) != 1 || got[0].ID != inv.ID || got[0].Account.Name != "Giedi Prime" {
				t.Errorf("got %+v, want the one invitation to Giedi Prime", got)
			}
		})

		bService := mintService(t, e, bid, perm.AccountAdmin)
		tests := []struct {
			name, tok, path string
			want            int
		}{
			{"B's owner accepts it for Paul", b.Token, accept, http.StatusForbidden},
			{"B's owner accepts it as themselves", b.Token, fmt.Sprintf("/api/tokend/v1/users/%d/invites/%d/accept/", b.User.ID, inv.ID), http.StatusNotFound},
			{"a service token accepts it", bService, accept, http.StatusForbidden},
			{"B's owner lists Paul's invitations", b.Token, mine, http.StatusForbidden},
			{"no token", "", accept, http.StatusUnauthorized},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				auth := ""
				if tt.tok != "" {
					auth = bearer(tt.tok)
				}
				method := "POST"
				if tt.path == mine {
					method = "GET"
				}
				if r := e.do(method, tt.path, auth, ""); r.Code != tt.want {
					t.Errorf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
			})
		}

		t.Run("accepted once", func(t *testing.T) {
			if r := e.do("POST", accept, bearer(a.Token), ""); r.Code != http.StatusOK {
				t.Fatalf("accept: got %d, want 200: %s", r.Code, r.Raw)
			}
			m, err := e.store.Membership(ctx, bid, paul)
			if err != nil || m.State != tokend.StateActive || m.License != perm.LicenseDeveloper {
				t.Fatalf("membership in B: got %+v, %v, want an active developer license", m, err)
			}
			if r := e.do("POST", accept, bearer(a.Token), ""); r.Code != http.StatusBadRequest {
				t.Errorf("accept again: got %d, want 400", r.Code)
			}
			if got := auditActions(t, e, bid); !slices.Contains(got, "invite.create") || !slices.Contains(got, "invite.accept") {
				t.Errorf("got B's audit actions %v, want invite.create and invite.accept", got)
			}
		})

		t.Run("an expired invitation cannot be accepted", func(t *testing.T) {
			c := e.initAccount("Caladan", "leto@example.com")
			r := e.do("POST", fmt.Sprintf("/api/v3/accounts/%d/users/", c.Account.ID), bearer(c.Token), `{"email": "paul@example.com"}`)
			if r.Code != http.StatusAccepted {
				t.Fatalf("invite: got %d: %s", r.Code, r.Raw)
			}
			var ci struct {
				ID int64 `json:"id"`
			}
			r.data(t, &ci)
			stored, err := e.store.Invitation(ctx, c.Account.ID, tokend.InvitationID(ci.ID))
			if err != nil {
				t.Fatal(err)
			}
			stored.ExpiresAt = time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
			if err := e.store.UpdateInvitation(ctx, stored); err != nil {
				t.Fatal(err)
			}
			r = e.do("POST", fmt.Sprintf("/api/tokend/v1/users/%d/invites/%d/accept/", paul, ci.ID), bearer(a.Token), "")
			if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.UserMessage, "expired") {
				t.Errorf("got %d %q, want 400 saying it expired", r.Code, r.Body.Status.UserMessage)
			}
			if _, err := e.store.Membership(ctx, c.Account.ID, paul); tokend.ErrorCode(err) != tokend.ENotFound {
				t.Errorf("membership in Caladan: got %v, want none", err)
			}
		})
	})
}

// dbt's invite paths: send (v3), list and read (v2), with the caller's rights as the limit.
func TestInvites(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, e *env) {
		f := newGroupsFixture(t, e, "Arrakis", "owner@example.com")
		a := f.Account.ID
		other := e.initAccount("Caladan", "leto@example.com")
		send := fmt.Sprintf("/api/v3/accounts/%d/invites/", a)

		var security groupOut
		mustGroupCall(t, e, "POST", f.groupsPath(""), f.Token, `{"name": "Security"}`, &security)
		mustGroupCall(t, e, "POST", f.permissionsPath(tokend.GroupID(security.ID)), f.Token, `[{"permission_set": "security_admin", "all_projects": true}]`, nil)
		sec, secTok := addGroupsMember(t, e, a, "hawat@example.com", perm.LicenseDeveloper)
		setGroups(t, e, a, tokend.UserID(sec), tokend.GroupID(security.ID))

		r := e.do("POST", send, bearer(f.Token), fmt.Sprintf(`{"email_addresses": ["leto@example.com", "Jessica@example.com", "jessica@example.com"],
			"license_type": "read_only", "group_ids": [%d]}`, security.ID))
		if r.Code != http.StatusOK {
			t.Fatalf("send: got %d, want 200: %s", r.Code, r.Raw)
		}
		var sent struct {
			Sent []string `json:"sent"`
		}
		r.data(t, &sent)
		if !slices.Equal(sent.Sent, []string{"leto@example.com", "jessica@example.com"}) {
			t.Errorf("got sent %v, want leto and jessica once each", sent.Sent)
		}

		r = e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/invites/", a), bearer(f.Token), "")
		var list []struct {
			ID           int64   `json:"id"`
			EmailAddress string  `json:"email_address"`
			LicenseType  string  `json:"license_type"`
			GroupIDs     []int64 `json:"group_ids"`
			Status       int     `json:"status"`
		}
		r.data(t, &list)
		if len(list) != 2 || list[0].EmailAddress != "leto@example.com" || list[0].LicenseType != "read_only" ||
			!slices.Equal(list[0].GroupIDs, []int64{security.ID}) || list[0].Status != 1 {
			t.Fatalf("list: got %+v, want leto's and jessica's pending read_only invitations into Security", list)
		}
		if r := e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/invites/%d/", a, list[1].ID), bearer(f.Token), ""); r.Code != http.StatusOK {
			t.Errorf("read one: got %d: %s", r.Code, r.Raw)
		}
		if r := e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/invites/%d/", other.Account.ID, list[1].ID), bearer(other.Token), ""); r.Code != http.StatusNotFound {
			t.Errorf("read it from another account: got %d, want 404", r.Code)
		}

		tests := []struct {
			name, tok, body, field string
			want                   int
		}{
			{"into Owner by a security admin", secTok, fmt.Sprintf(`{"email_addresses": ["x@example.com"], "license_type": "developer", "group_ids": [%d]}`, f.owner), "", 403},
			{"IT by a security admin", secTok, `{"email_addresses": ["x@example.com"], "license_type": "it"}`, "", 403},
			{"an active member", f.Token, `{"email_addresses": ["owner@example.com"], "license_type": "developer"}`, "email", 400},
			{"no license", f.Token, `{"email_addresses": ["x@example.com"]}`, "license_type", 400},
			{"bad e-mail", f.Token, `{"email_addresses": ["nope"], "license_type": "developer"}`, "email_addresses", 400},
			{"no e-mails", f.Token, `{"email_addresses": [], "license_type": "developer"}`, "email_addresses", 400},
			{"unknown group", f.Token, `{"email_addresses": ["x@example.com"], "license_type": "developer", "group_ids": [999999]}`, "group_ids", 400},
			{"into Security by a security admin", secTok, fmt.Sprintf(`{"email_addresses": ["x@example.com"], "license_type": "developer", "group_ids": [%d]}`, security.ID), "", 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", send, bearer(tt.tok), tt.body)
				if r.Code != tt.want {
					t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
				if tt.field != "" && r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
					t.Errorf("got %q, want it to name %s", r.Body.Status.DeveloperMessage, tt.field)
				}
			})
		}

		t.Run("Leto accepts and joins with the invited license and groups", func(t *testing.T) {
			r := e.do("POST", fmt.Sprintf("/api/tokend/v1/users/%d/invites/%d/accept/", other.User.ID, list[0].ID), bearer(other.Token), "")
			if r.Code != http.StatusOK {
				t.Fatalf("accept: got %d: %s", r.Code, r.Raw)
			}
			r = e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/users/%d/", a, other.User.ID), bearer(f.Token), "")
			var u userBody
			r.data(t, &u)
			if len(u.Permissions) == 0 || u.Permissions[0].LicenseType != "read_only" ||
				!slices.Contains(u.Permissions[0].groupNames(), "Security") || !slices.Contains(u.Permissions[0].groupNames(), tokend.GroupEveryone) {
				t.Errorf("got %+v, want a read_only license in Security and Everyone", u.Permissions)
			}
		})
	})
}
