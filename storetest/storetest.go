// Package storetest is the conformance suite every tokend.Store must pass. The SQLite and
// PostgreSQL stores run it from their own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(tb testing.TB) tokend.Store { return openTestStore(tb) })
//	}
//
// Where tokend.Store's comments leave a behaviour open, the test that checks it says which
// behaviour the stores promise (look for "Contract:").
package storetest

import (
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// Run runs the conformance suite against stores made by open. open must return a new, empty,
// migrated store for each call (each subtest gets its own store), and register its cleanup with
// tb.Cleanup. The areas run in parallel with each other.
func Run(t *testing.T, open func(tb testing.TB) tokend.Store) {
	areas := []struct {
		name string
		test func(t *testing.T, open func(testing.TB) tokend.Store)
	}{
		{"Accounts", testAccounts},
		{"Users", testUsers},
		{"Memberships", testMemberships},
		{"Projects", testProjects},
		{"Groups", testGroups},
		{"Listing", testListing},
		{"LicenseMaps", testLicenseMaps},
		{"GroupPermissions", testGroupPermissions},
		{"UserGroups", testUserGroups},
		{"Tokens", testTokens},
		{"TokenPermissions", testTokenPermissions},
		{"TokenForVerify", testTokenForVerify},
		{"TokenUses", testTokenUses},
		{"ListTokensFilters", testListTokensFilters},
		{"ListTokensQuery", testListTokensQuery},
		{"Audit", testAudit},
		{"Tx", testTx},
		{"Pagination", testPagination},
		{"AccountBoundary", testAccountBoundary},
		{"Feed", testFeed},
		{"UserCredentials", testUserCredentials},
		{"LegacyUses", testLegacyUses},
		{"DailyUses", testDailyUses},
		{"CapabilityUses", testCapabilityUses},
		{"InactiveTokens", testInactiveTokens},
		{"RotationChains", testRotationChains},
		{"IPRules", testIPRules},
		{"NameFilters", testNameFilters},
		{"GroupNameUnique", testGroupNameUnique},
		{"Sessions", testSessions},
		{"SessionFlashes", testSessionFlashes},
		{"TrustPolicies", testTrustPolicies},
		{"SubjectTokenUses", testSubjectTokenUses},
		{"DeviceAuthorizations", testDeviceAuthorizations},
		{"Invitations", testInvitations},
		{"DeleteUserSessions", testDeleteUserSessions},
		{"PasswordResets", testPasswordResets},
		{"WebhookEndpoints", testWebhookEndpoints},
		{"WebhookOutbox", testWebhookOutbox},
		{"TokenNotices", testTokenNotices},
		{"TokenAddresses", testTokenAddresses},
		{"TokenTags", testTokenTags},
	}
	for _, a := range areas {
		t.Run(a.name, func(t *testing.T) {
			// Each area opens stores of its own (open gives a new database or schema per call).
			t.Parallel()
			a.test(t, open)
		})
	}
}

// base is the suite's clock. It has microsecond precision, the precision stores keep, and is in
// UTC, so that what is written can be compared with what is read back.
var base = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

// at returns base moved by d.
func at(d time.Duration) time.Time { return base.Add(d) }

// unique returns a random string, so that helpers can make rows with unique names without
// shared counters.
func unique() string { return rand.Text()[:12] }

// randomHash returns the SHA-256 of a random token, as a store would receive it.
func randomHash() []byte {
	h := sha256.Sum256([]byte(rand.Text()))
	return h[:]
}

// must stops the test when err is not nil.
func must(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// wantCode checks that err carries the domain error code want.
func wantCode(tb testing.TB, err error, want tokend.Code, what string) {
	tb.Helper()
	if got := tokend.ErrorCode(err); got != want {
		tb.Errorf("%s: error code got %q (err: %v), want %q", what, got, err, want)
	}
}

// Fixtures. Each makes an active row with unique names and fails the test if the store refuses.

func mustAccount(tb testing.TB, st tokend.Store) *tokend.Account {
	tb.Helper()
	a := &tokend.Account{Name: "Account " + unique(), Plan: perm.PlanEnterprise, State: tokend.StateActive,
		CreatedAt: base, UpdatedAt: base}
	must(tb, st.CreateAccount(tb.Context(), a), "CreateAccount")
	return a
}

func mustUser(tb testing.TB, st tokend.Store) *tokend.User {
	tb.Helper()
	u := &tokend.User{Email: "user-" + unique() + "@example.com", FirstName: "Ada", LastName: "Lovelace",
		State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
	must(tb, st.CreateUser(tb.Context(), u), "CreateUser")
	return u
}

func mustMembership(tb testing.TB, st tokend.Store, accountID tokend.AccountID, userID tokend.UserID) *tokend.Membership {
	tb.Helper()
	m := &tokend.Membership{AccountID: accountID, UserID: userID, License: perm.LicenseDeveloper,
		State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
	must(tb, st.CreateMembership(tb.Context(), m), "CreateMembership")
	return m
}

func mustProject(tb testing.TB, st tokend.Store, accountID tokend.AccountID) *tokend.Project {
	tb.Helper()
	p := &tokend.Project{AccountID: accountID, Name: "Project " + unique(), State: tokend.StateActive,
		CreatedAt: base, UpdatedAt: base}
	must(tb, st.CreateProject(tb.Context(), p), "CreateProject")
	return p
}

func mustGroup(tb testing.TB, st tokend.Store, accountID tokend.AccountID) *tokend.Group {
	tb.Helper()
	g := &tokend.Group{AccountID: accountID, Name: "Group " + unique(), State: tokend.StateActive,
		CreatedAt: base, UpdatedAt: base}
	must(tb, st.CreateGroup(tb.Context(), g), "CreateGroup")
	return g
}

// mustToken stores t and returns it.
func mustToken(tb testing.TB, st tokend.Store, t *tokend.Token) *tokend.Token {
	tb.Helper()
	must(tb, st.CreateToken(tb.Context(), t), "CreateToken")
	return t
}

// Token builders: an active token of each kind with a random uid and hash, not yet stored.

func newPAT(accountID tokend.AccountID, userID tokend.UserID) *tokend.Token {
	return &tokend.Token{Kind: tokend.KindPAT, AccountID: accountID, UserID: userID, CreatedBy: userID,
		UID: unique(), Name: "pat " + unique(), Hash: randomHash(), State: tokend.StateActive,
		CreatedAt: base, UpdatedAt: base}
}

func newServiceToken(accountID tokend.AccountID, creatorID tokend.UserID) *tokend.Token {
	return &tokend.Token{Kind: tokend.KindService, AccountID: accountID, CreatedBy: creatorID,
		UID: unique(), Name: "service " + unique(), Hash: randomHash(), State: tokend.StateActive,
		CreatedAt: base, UpdatedAt: base}
}

func newLegacyKey(userID tokend.UserID) *tokend.Token {
	return &tokend.Token{Kind: tokend.KindLegacyKey, UserID: userID, CreatedBy: userID,
		UID: unique(), Name: "legacy key", SlowHash: "pbkdf2-sha256$600000$" + unique() + "$" + unique(),
		State: tokend.StateActive, CreatedAt: base, UpdatedAt: base}
}

// ids returns the ids of rows, in order.
func ids[T any, ID ~int64](rows []T, id func(T) ID) []ID {
	out := make([]ID, len(rows))
	for i, r := range rows {
		out[i] = id(r)
	}
	return out
}

func accountID(a *tokend.Account) tokend.AccountID          { return a.ID }
func membershipID(m *tokend.Membership) tokend.MembershipID { return m.ID }
func projectID(p *tokend.Project) tokend.ProjectID          { return p.ID }
func groupID(g *tokend.Group) tokend.GroupID                { return g.ID }
func tokenID(t *tokend.Token) tokend.TokenID                { return t.ID }
func auditID(e *tokend.AuditEvent) int64                    { return e.ID }

// plain is ids as a pk filter takes them.
func plain[ID ~int64](ids ...ID) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// wantIDs checks that got lists exactly want, in order.
func wantIDs[ID ~int64](tb testing.TB, what string, got, want []ID) {
	tb.Helper()
	if !equalSlices(got, want) {
		tb.Errorf("%s: got ids %v, want %v", what, got, want)
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
