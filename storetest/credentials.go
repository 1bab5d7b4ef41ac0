package storetest

import (
	"testing"
	"time"

	"tokend"
)

// testUserCredentials checks users' associations with development credentials. Contract: a
// lookup or an update through another user's id is ENotFound and changes nothing; an update
// never changes the account, the user or the creation time; a reference to a missing account,
// user or project is ENotFound.
func testUserCredentials(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		u := mustUser(t, st)
		pa := mustProject(t, st, a.ID)
		pb := mustProject(t, st, b.ID)

		tests := []struct {
			name string
			c    *tokend.UserCredential
		}{
			{"active", &tokend.UserCredential{AccountID: a.ID, UserID: u.ID, ProjectID: pa.ID, CredentialsID: 7,
				State: tokend.StateActive, CreatedAt: base, UpdatedAt: at(time.Second)}},
			{"deleted", &tokend.UserCredential{AccountID: a.ID, UserID: u.ID, ProjectID: pa.ID, CredentialsID: 8,
				State: tokend.StateDeleted, CreatedAt: at(time.Minute), UpdatedAt: at(time.Hour)}},
			{"same user in another account", &tokend.UserCredential{AccountID: b.ID, UserID: u.ID, ProjectID: pb.ID,
				CredentialsID: 1 << 40, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := *tt.c
				must(t, st.CreateUserCredential(ctx, tt.c), "CreateUserCredential")
				if tt.c.ID <= 0 {
					t.Fatalf("CreateUserCredential: got ID %d, want > 0", tt.c.ID)
				}
				want.ID = tt.c.ID
				got, err := st.UserCredential(ctx, u.ID, want.ID)
				must(t, err, "UserCredential")
				userCredentialDiff(got, &want).report(t, "UserCredential")
				if got.Project != nil {
					t.Errorf("UserCredential: got Project %+v, want nil (the service fills it in)", got.Project)
				}
			})
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		other := mustUser(t, st)
		p := mustProject(t, st, a.ID)
		c := mustUserCredential(t, st, a.ID, u.ID, p.ID)
		theirs := mustUserCredential(t, st, a.ID, other.ID, p.ID)

		_, err := st.UserCredential(ctx, u.ID, 999999)
		wantCode(t, err, tokend.ENotFound, "UserCredential(missing)")
		_, err = st.UserCredential(ctx, u.ID, theirs.ID)
		wantCode(t, err, tokend.ENotFound, "UserCredential(another user's id)")
		_, err = st.UserCredential(ctx, other.ID, c.ID)
		wantCode(t, err, tokend.ENotFound, "UserCredential(u's id through other)")

		missing := *c
		missing.ID = 999999
		wantCode(t, st.UpdateUserCredential(ctx, &missing), tokend.ENotFound, "UpdateUserCredential(missing)")
		hijack := *theirs
		hijack.UserID = u.ID
		hijack.CredentialsID = 666
		hijack.State = tokend.StateDeleted
		hijack.UpdatedAt = at(time.Hour)
		wantCode(t, st.UpdateUserCredential(ctx, &hijack), tokend.ENotFound, "UpdateUserCredential(another user's id)")
		got, err := st.UserCredential(ctx, other.ID, theirs.ID)
		must(t, err, "UserCredential")
		userCredentialDiff(got, theirs).report(t, "the other user's association after a refused update")
	})

	t.Run("MissingReferences", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		p := mustProject(t, st, a.ID)
		valid := tokend.UserCredential{AccountID: a.ID, UserID: u.ID, ProjectID: p.ID, CredentialsID: 1,
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		tests := []struct {
			name   string
			change func(c *tokend.UserCredential)
		}{
			{"account", func(c *tokend.UserCredential) { c.AccountID = 999999 }},
			{"user", func(c *tokend.UserCredential) { c.UserID = 999999 }},
			{"project", func(c *tokend.UserCredential) { c.ProjectID = 999999 }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := valid
				tt.change(&c)
				wantCode(t, st.CreateUserCredential(ctx, &c), tokend.ENotFound, "CreateUserCredential")
			})
		}
		t.Run("update to a missing project", func(t *testing.T) {
			c := mustUserCredential(t, st, a.ID, u.ID, p.ID)
			moved := *c
			moved.ProjectID = 999999
			wantCode(t, st.UpdateUserCredential(ctx, &moved), tokend.ENotFound, "UpdateUserCredential")
			got, err := st.UserCredential(ctx, u.ID, c.ID)
			must(t, err, "UserCredential")
			userCredentialDiff(got, c).report(t, "after a refused update")
		})
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		u := mustUser(t, st)
		p := mustProject(t, st, a.ID)
		q := mustProject(t, st, a.ID)
		c := mustUserCredential(t, st, a.ID, u.ID, p.ID)
		want := *c

		c.ProjectID = q.ID
		c.CredentialsID = 424242
		c.State = tokend.StateDeleted
		c.UpdatedAt = at(time.Hour)
		// The rest is fixed at creation: these must be ignored.
		c.AccountID = b.ID
		c.CreatedAt = at(2 * time.Hour)
		must(t, st.UpdateUserCredential(ctx, c), "UpdateUserCredential")
		want.ProjectID, want.CredentialsID, want.State, want.UpdatedAt = q.ID, 424242, tokend.StateDeleted, at(time.Hour)
		got, err := st.UserCredential(ctx, u.ID, c.ID)
		must(t, err, "UserCredential")
		userCredentialDiff(got, &want).report(t, "after update")
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		u := mustUser(t, st)
		other := mustUser(t, st)
		pa := mustProject(t, st, a.ID)
		pb := mustProject(t, st, b.ID)
		// u's rows alternate between accounts a and b; every third is deleted. Another user's
		// rows are interleaved so that ids have gaps.
		var all, inA, inB, activeA, deletedA []tokend.CredentialID
		for i := range 9 {
			acct, proj := a.ID, pa.ID
			if i%2 == 1 {
				acct, proj = b.ID, pb.ID
			}
			c := mustUserCredential(t, st, acct, u.ID, proj)
			if i%3 == 2 {
				c.State = tokend.StateDeleted
				must(t, st.UpdateUserCredential(ctx, c), "UpdateUserCredential")
			}
			all = append(all, c.ID)
			if acct == a.ID {
				inA = append(inA, c.ID)
				if c.State == tokend.StateActive {
					activeA = append(activeA, c.ID)
				} else {
					deletedA = append(deletedA, c.ID)
				}
			} else {
				inB = append(inB, c.ID)
			}
			mustUserCredential(t, st, a.ID, other.ID, pa.ID)
		}

		tests := []struct {
			name      string
			f         tokend.UserCredentialFilter
			want      []tokend.CredentialID
			wantTotal int
		}{
			{"every account", tokend.UserCredentialFilter{UserID: u.ID}, all, 9},
			{"account a", tokend.UserCredentialFilter{UserID: u.ID, AccountID: a.ID}, inA, 5},
			{"account b", tokend.UserCredentialFilter{UserID: u.ID, AccountID: b.ID}, inB, 4},
			{"active in a", tokend.UserCredentialFilter{UserID: u.ID, AccountID: a.ID, State: tokend.StateActive}, activeA, 3},
			{"deleted in a", tokend.UserCredentialFilter{UserID: u.ID, AccountID: a.ID, State: tokend.StateDeleted}, deletedA, 2},
			{"first page", tokend.UserCredentialFilter{UserID: u.ID, Page: tokend.Page{Limit: 4}}, all[:4], 9},
			{"second page", tokend.UserCredentialFilter{UserID: u.ID, Page: tokend.Page{Limit: 4, Offset: 4}}, all[4:8], 9},
			{"last page", tokend.UserCredentialFilter{UserID: u.ID, Page: tokend.Page{Limit: 4, Offset: 8}}, all[8:], 9},
			{"page of a filter", tokend.UserCredentialFilter{UserID: u.ID, AccountID: a.ID, Page: tokend.Page{Limit: 2, Offset: 1}},
				inA[1:3], 5},
			{"past the end", tokend.UserCredentialFilter{UserID: u.ID, Page: tokend.Page{Offset: 20}}, nil, 9},
			{"user without rows", tokend.UserCredentialFilter{UserID: mustUser(t, st).ID}, nil, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := st.ListUserCredentials(ctx, tt.f)
				must(t, err, "ListUserCredentials")
				wantIDs(t, "ListUserCredentials", ids(got, userCredentialID), tt.want)
				if total != tt.wantTotal {
					t.Errorf("ListUserCredentials total: got %d, want %d", total, tt.wantTotal)
				}
				for _, c := range got {
					if c.UserID != u.ID {
						t.Errorf("ListUserCredentials: got user %d's row %d, want only user %d's", c.UserID, c.ID, u.ID)
					}
				}
			})
		}

		t.Run("rows read back whole", func(t *testing.T) {
			c := &tokend.UserCredential{AccountID: b.ID, UserID: other.ID, ProjectID: pb.ID, CredentialsID: 99,
				State: tokend.StateActive, CreatedAt: at(time.Minute), UpdatedAt: at(time.Hour)}
			must(t, st.CreateUserCredential(ctx, c), "CreateUserCredential")
			got, total, err := st.ListUserCredentials(ctx, tokend.UserCredentialFilter{UserID: other.ID, AccountID: b.ID})
			must(t, err, "ListUserCredentials")
			if len(got) != 1 || total != 1 {
				t.Fatalf("ListUserCredentials: got %d rows, total %d, want 1 and 1", len(got), total)
			}
			userCredentialDiff(got[0], c).report(t, "ListUserCredentials[0]")
		})
	})
}

// mustUserCredential stores an active association with credentials 1 and returns it.
func mustUserCredential(tb testing.TB, st tokend.Store, accountID tokend.AccountID, userID tokend.UserID, projectID tokend.ProjectID) *tokend.UserCredential {
	tb.Helper()
	c := &tokend.UserCredential{AccountID: accountID, UserID: userID, ProjectID: projectID, CredentialsID: 1,
		State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
	must(tb, st.CreateUserCredential(tb.Context(), c), "CreateUserCredential")
	return c
}

func userCredentialID(c *tokend.UserCredential) tokend.CredentialID { return c.ID }

func userCredentialDiff(got, want *tokend.UserCredential) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "UserID", got.UserID, want.UserID)
	eq(&d, "ProjectID", got.ProjectID, want.ProjectID)
	eq(&d, "CredentialsID", got.CredentialsID, want.CredentialsID)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}
