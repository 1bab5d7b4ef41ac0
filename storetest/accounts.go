package storetest

import (
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func testAccounts(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("Ping", func(t *testing.T) {
		st := open(t)
		must(t, st.Ping(t.Context()), "Ping")
	})

	t.Run("CreateAndRead", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		tests := []struct {
			name string
			a    tokend.Account
		}{
			{"plain", tokend.Account{Name: "Acme", Plan: perm.PlanEnterprise, State: tokend.StateActive,
				CreatedAt: base, UpdatedAt: base}},
			{"all fields", tokend.Account{Name: "Initech", Plan: perm.PlanTeam, State: tokend.StateActive,
				PATMaxLifetime: 90 * 24 * time.Hour, LegacyKeysUntil: at(30 * 24 * time.Hour),
				InactivityDays: 90, ReuseRevokesChain: true, OverlapFromFirstUse: true,
				CreatedAt: base, UpdatedAt: at(time.Minute)}},
			{"deleted", tokend.Account{Name: "Gone", Plan: perm.PlanTeam, State: tokend.StateDeleted,
				CreatedAt: base, UpdatedAt: base}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := tt.a
				must(t, st.CreateAccount(ctx, &a), "CreateAccount")
				if a.ID <= 0 {
					t.Fatalf("CreateAccount: got ID %d, want > 0", a.ID)
				}
				if !a.CreatedAt.Equal(tt.a.CreatedAt) || !a.UpdatedAt.Equal(tt.a.UpdatedAt) {
					t.Errorf("CreateAccount changed the caller's times: got %v/%v, want %v/%v",
						a.CreatedAt, a.UpdatedAt, tt.a.CreatedAt, tt.a.UpdatedAt)
				}
				got, err := st.Account(ctx, a.ID)
				must(t, err, "Account")
				accountDiff(got, &a).report(t, "Account")
			})
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		st := open(t)
		_, err := st.Account(t.Context(), 999999)
		wantCode(t, err, tokend.ENotFound, "Account(missing)")
		err = st.UpdateAccount(t.Context(), &tokend.Account{ID: 999999, Name: "x", Plan: perm.PlanTeam,
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: base})
		// Contract: updating a row that does not exist is ENotFound, not a silent no-op.
		wantCode(t, err, tokend.ENotFound, "UpdateAccount(missing)")
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		a.Name = "Renamed"
		a.Plan = perm.PlanTeam
		a.State = tokend.StateDeleted
		a.PATMaxLifetime = 7 * 24 * time.Hour
		a.LegacyKeysUntil = at(48 * time.Hour)
		a.ReuseRevokesChain, a.OverlapFromFirstUse = true, true
		a.UpdatedAt = at(time.Hour)
		must(t, st.UpdateAccount(ctx, a), "UpdateAccount")
		got, err := st.Account(ctx, a.ID)
		must(t, err, "Account")
		accountDiff(got, a).report(t, "after first update")

		// Clearing the optional fields clears them; zero stays zero.
		a.PATMaxLifetime = 0
		a.LegacyKeysUntil = time.Time{}
		a.ReuseRevokesChain, a.OverlapFromFirstUse = false, false
		a.State = tokend.StateActive
		a.UpdatedAt = at(2 * time.Hour)
		must(t, st.UpdateAccount(ctx, a), "UpdateAccount")
		got, err = st.Account(ctx, a.ID)
		must(t, err, "Account")
		accountDiff(got, a).report(t, "after clearing")
	})

	t.Run("Count", func(t *testing.T) {
		st := open(t)
		n, err := st.CountAccounts(t.Context())
		must(t, err, "CountAccounts")
		if n != 0 {
			t.Errorf("CountAccounts on an empty store: got %d, want 0", n)
		}
		for range 3 {
			mustAccount(t, st)
		}
		n, err = st.CountAccounts(t.Context())
		must(t, err, "CountAccounts")
		if n != 3 {
			t.Errorf("CountAccounts: got %d, want 3", n)
		}
	})

	t.Run("AccountsOfUser", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		u := mustUser(t, st)
		other := mustUser(t, st)

		first := mustAccount(t, st)
		mustMembership(t, st, first.ID, u.ID)

		left := mustAccount(t, st) // the user's membership is deleted
		m := mustMembership(t, st, left.ID, u.ID)
		m.State = tokend.StateDeleted
		must(t, st.UpdateMembership(ctx, m), "UpdateMembership")

		closed := mustAccount(t, st) // the account is deleted
		mustMembership(t, st, closed.ID, u.ID)
		closed.State = tokend.StateDeleted
		must(t, st.UpdateAccount(ctx, closed), "UpdateAccount")

		foreign := mustAccount(t, st) // only another user is a member
		mustMembership(t, st, foreign.ID, other.ID)

		last := mustAccount(t, st)
		mustMembership(t, st, last.ID, u.ID)

		got, err := st.AccountsOfUser(ctx, u.ID)
		must(t, err, "AccountsOfUser")
		wantIDs(t, "AccountsOfUser", ids(got, accountID), []tokend.AccountID{first.ID, last.ID})
		if len(got) > 0 {
			accountDiff(got[0], first).report(t, "AccountsOfUser[0]")
		}

		got, err = st.AccountsOfUser(ctx, 999999)
		must(t, err, "AccountsOfUser(unknown user)")
		if len(got) != 0 {
			t.Errorf("AccountsOfUser(unknown user): got %d accounts, want 0", len(got))
		}
	})
}

func testUsers(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		u := &tokend.User{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
			PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", State: tokend.StateActive,
			CreatedAt: base, UpdatedAt: at(time.Second)}
		must(t, st.CreateUser(ctx, u), "CreateUser")
		if u.ID <= 0 {
			t.Fatalf("CreateUser: got ID %d, want > 0", u.ID)
		}
		got, err := st.User(ctx, u.ID)
		must(t, err, "User")
		userDiff(got, u).report(t, "User")

		// A user without a password keeps an empty hash.
		nopw := &tokend.User{Email: "grace@example.com", State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		must(t, st.CreateUser(ctx, nopw), "CreateUser(no password)")
		got, err = st.User(ctx, nopw.ID)
		must(t, err, "User")
		userDiff(got, nopw).report(t, "User(no password)")
	})

	t.Run("ByEmail", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		lower := &tokend.User{Email: "ada@example.com", State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		must(t, st.CreateUser(ctx, lower), "CreateUser")
		// E-mails are stored as given (the service normalises them first), and found whatever
		// their case.
		mixed := &tokend.User{Email: "Grace.Hopper@Example.com", State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		must(t, st.CreateUser(ctx, mixed), "CreateUser")

		tests := []struct {
			email string
			want  *tokend.User
		}{
			{"ada@example.com", lower},
			{"ADA@Example.COM", lower},
			{"Grace.Hopper@Example.com", mixed},
			{"grace.hopper@example.com", mixed},
			{strings.ToUpper("grace.hopper@example.com"), mixed},
		}
		for _, tt := range tests {
			got, err := st.UserByEmail(ctx, tt.email)
			if err != nil {
				t.Errorf("UserByEmail(%q): %v", tt.email, err)
				continue
			}
			userDiff(got, tt.want).report(t, "UserByEmail("+tt.email+")")
		}
		_, err := st.UserByEmail(ctx, "nobody@example.com")
		wantCode(t, err, tokend.ENotFound, "UserByEmail(missing)")
	})

	t.Run("NotFound", func(t *testing.T) {
		st := open(t)
		_, err := st.User(t.Context(), 999999)
		wantCode(t, err, tokend.ENotFound, "User(missing)")
		err = st.UpdateUser(t.Context(), &tokend.User{ID: 999999, Email: "x@example.com", State: tokend.StateActive,
			CreatedAt: base, UpdatedAt: base})
		wantCode(t, err, tokend.ENotFound, "UpdateUser(missing)")
	})

	t.Run("DuplicateEmail", func(t *testing.T) {
		st := open(t)
		u := mustUser(t, st)
		dup := &tokend.User{Email: u.Email, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		wantCode(t, st.CreateUser(t.Context(), dup), tokend.EConflict, "CreateUser(same e-mail)")

		// Changing an e-mail to one already taken is a conflict too.
		other := mustUser(t, st)
		other.Email = u.Email
		wantCode(t, st.UpdateUser(t.Context(), other), tokend.EConflict, "UpdateUser(taken e-mail)")
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		u := mustUser(t, st)
		u.Email = "new-" + unique() + "@example.com"
		u.FirstName = "Augusta"
		u.LastName = "King"
		u.PasswordHash = "$argon2id$v=19$m=65536,t=1,p=4$bmV3$bmV3"
		u.State = tokend.StateDeleted
		u.UpdatedAt = at(time.Hour)
		must(t, st.UpdateUser(ctx, u), "UpdateUser")
		got, err := st.User(ctx, u.ID)
		must(t, err, "User")
		userDiff(got, u).report(t, "after update")
		got, err = st.UserByEmail(ctx, u.Email)
		must(t, err, "UserByEmail(new e-mail)")
		if got.ID != u.ID {
			t.Errorf("UserByEmail(new e-mail): got user %d, want %d", got.ID, u.ID)
		}
	})
}

func testMemberships(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		m := &tokend.Membership{AccountID: a.ID, UserID: u.ID, License: perm.LicenseReadOnly,
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: at(time.Second)}
		must(t, st.CreateMembership(ctx, m), "CreateMembership")
		if m.ID <= 0 {
			t.Fatalf("CreateMembership: got ID %d, want > 0", m.ID)
		}
		got, err := st.Membership(ctx, a.ID, u.ID)
		must(t, err, "Membership")
		membershipDiff(got, m).report(t, "Membership")
		got, err = st.MembershipByID(ctx, a.ID, m.ID)
		must(t, err, "MembershipByID")
		membershipDiff(got, m).report(t, "MembershipByID")
	})

	t.Run("NotFound", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		u := mustUser(t, st)
		m := mustMembership(t, st, a.ID, u.ID)

		_, err := st.Membership(ctx, b.ID, u.ID)
		wantCode(t, err, tokend.ENotFound, "Membership(other account)")
		_, err = st.Membership(ctx, a.ID, 999999)
		wantCode(t, err, tokend.ENotFound, "Membership(missing user)")
		_, err = st.MembershipByID(ctx, a.ID, 999999)
		wantCode(t, err, tokend.ENotFound, "MembershipByID(missing)")
		_, err = st.MembershipByID(ctx, b.ID, m.ID)
		wantCode(t, err, tokend.ENotFound, "MembershipByID(other account's id)")
		err = st.UpdateMembership(ctx, &tokend.Membership{ID: 999999, AccountID: a.ID, UserID: u.ID,
			License: perm.LicenseDeveloper, State: tokend.StateActive, CreatedAt: base, UpdatedAt: base})
		wantCode(t, err, tokend.ENotFound, "UpdateMembership(missing)")
	})

	t.Run("Duplicate", func(t *testing.T) {
		st := open(t)
		a := mustAccount(t, st)
		u := mustUser(t, st)
		mustMembership(t, st, a.ID, u.ID)
		dup := &tokend.Membership{AccountID: a.ID, UserID: u.ID, License: perm.LicenseReadOnly,
			State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
		wantCode(t, st.CreateMembership(t.Context(), dup), tokend.EConflict, "CreateMembership(same account and user)")
	})

	t.Run("Update", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		m := mustMembership(t, st, a.ID, u.ID)
		m.License = perm.LicenseReadOnly
		m.State = tokend.StateDeleted
		m.UpdatedAt = at(time.Hour)
		must(t, st.UpdateMembership(ctx, m), "UpdateMembership")
		got, err := st.MembershipByID(ctx, a.ID, m.ID)
		must(t, err, "MembershipByID")
		membershipDiff(got, m).report(t, "after update")
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		var active, deleted, all []tokend.MembershipID
		for i := range 5 {
			m := mustMembership(t, st, a.ID, mustUser(t, st).ID)
			if i%2 == 1 {
				m.State = tokend.StateDeleted
				must(t, st.UpdateMembership(ctx, m), "UpdateMembership")
				deleted = append(deleted, m.ID)
			} else {
				active = append(active, m.ID)
			}
			all = append(all, m.ID)
		}
		mustMembership(t, st, b.ID, mustUser(t, st).ID) // never listed for a

		tests := []struct {
			name      string
			f         tokend.MembershipFilter
			want      []tokend.MembershipID
			wantTotal int
		}{
			{"any state", tokend.MembershipFilter{AccountID: a.ID}, all, 5},
			{"active", tokend.MembershipFilter{AccountID: a.ID, State: tokend.StateActive}, active, 3},
			{"deleted", tokend.MembershipFilter{AccountID: a.ID, State: tokend.StateDeleted}, deleted, 2},
			{"page", tokend.MembershipFilter{AccountID: a.ID, Page: tokend.Page{Limit: 2, Offset: 1}}, all[1:3], 5},
			{"past the end", tokend.MembershipFilter{AccountID: a.ID, Page: tokend.Page{Limit: 2, Offset: 5}}, nil, 5},
			{"unknown account", tokend.MembershipFilter{AccountID: 999999}, nil, 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := st.ListMemberships(ctx, tt.f)
				must(t, err, "ListMemberships")
				wantIDs(t, "ListMemberships", ids(got, membershipID), tt.want)
				if total != tt.wantTotal {
					t.Errorf("ListMemberships total: got %d, want %d", total, tt.wantTotal)
				}
			})
		}
	})

	t.Run("OfUser", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		u := mustUser(t, st)
		other := mustUser(t, st)
		a, b, c := mustAccount(t, st), mustAccount(t, st), mustAccount(t, st)
		ma := mustMembership(t, st, a.ID, u.ID)
		mustMembership(t, st, b.ID, other.ID)
		mc := mustMembership(t, st, c.ID, u.ID)
		mc.State = tokend.StateDeleted
		must(t, st.UpdateMembership(ctx, mc), "UpdateMembership")

		// Contract: every membership of the user, whatever its state, ordered by id; the
		// service decides which ones to show.
		got, err := st.MembershipsOfUser(ctx, u.ID)
		must(t, err, "MembershipsOfUser")
		wantIDs(t, "MembershipsOfUser", ids(got, membershipID), []tokend.MembershipID{ma.ID, mc.ID})
		if len(got) == 2 {
			membershipDiff(got[0], ma).report(t, "MembershipsOfUser[0]")
			membershipDiff(got[1], mc).report(t, "MembershipsOfUser[1]")
		}
	})
}
