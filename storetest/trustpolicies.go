package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func newTrustPolicy(accountID tokend.AccountID, creatorID tokend.UserID) *tokend.TrustPolicy {
	return &tokend.TrustPolicy{AccountID: accountID, Name: "policy " + unique(),
		Issuer: "https://token.actions.githubusercontent.com", Audience: "tokend",
		Claims: map[string]string{"repository": "acme/" + unique(), "ref": "refs/heads/*"},
		Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}},
		TTL:    15 * time.Minute, State: tokend.StateActive, CreatedBy: creatorID, CreatedAt: base, UpdatedAt: base}
}

func trustPolicyDiff(got, want *tokend.TrustPolicy) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "Name", got.Name, want.Name)
	eq(&d, "Issuer", got.Issuer, want.Issuer)
	eq(&d, "Audience", got.Audience, want.Audience)
	if !maps.Equal(got.Claims, want.Claims) || got.Claims == nil {
		d.addf("Claims: got %v, want %v", got.Claims, want.Claims)
	}
	if !slices.EqualFunc(got.Grants, want.Grants, func(a, b perm.Grant) bool {
		return a.Set == b.Set && a.AllProjects == b.AllProjects && a.ProjectID == b.ProjectID &&
			slices.Equal(a.WritableEnvironmentCategories, b.WritableEnvironmentCategories)
	}) {
		d.addf("Grants: got %+v, want %+v", got.Grants, want.Grants)
	}
	eq(&d, "TTL", got.TTL, want.TTL)
	eq(&d, "JWKS", got.JWKS, want.JWKS)
	eq(&d, "State", got.State, want.State)
	eq(&d, "CreatedBy", got.CreatedBy, want.CreatedBy)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}

// testTrustPolicies checks trust policies and the tokens they mint. Contract:
//   - every field reads back as written, claims and grants included (an empty claim set reads
//     back as an empty map, not nil);
//   - reads take the account: another account's id is ENotFound, for reads and updates;
//   - lists filter by state and issuer, order by id and count every match;
//   - RevokeTrustPolicyTokens deletes only the policy's active tokens of that account and
//     returns their ids; a token's TrustPolicyID reads back; the Federated filter selects them.
func testTrustPolicies(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		pr := mustProject(t, st, a.ID)
		tests := []struct {
			name string
			p    *tokend.TrustPolicy
		}{
			{"github", newTrustPolicy(a.ID, u.ID)},
			{"pinned keys and project grants", func() *tokend.TrustPolicy {
				p := newTrustPolicy(a.ID, 0)
				p.Issuer, p.JWKS = "https://gitlab.example.com", `{"keys":[]}`
				p.Claims = map[string]string{"project_path": "group/sub/*", "naïve": "✓"}
				p.Grants = []perm.Grant{{Set: perm.Developer, ProjectID: int64(pr.ID), WritableEnvironmentCategories: []string{"development", "staging"}},
					{Set: perm.MetadataOnly, AllProjects: true}}
				p.TTL = time.Hour
				return p
			}()},
			{"no claims", func() *tokend.TrustPolicy {
				p := newTrustPolicy(a.ID, u.ID)
				p.Claims = map[string]string{}
				return p
			}()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := *tt.p
				must(t, st.CreateTrustPolicy(ctx, tt.p), "CreateTrustPolicy")
				if tt.p.ID <= 0 {
					t.Fatalf("CreateTrustPolicy: got ID %d, want > 0", tt.p.ID)
				}
				want.ID = tt.p.ID
				got, err := st.TrustPolicy(ctx, a.ID, tt.p.ID)
				must(t, err, "TrustPolicy")
				trustPolicyDiff(got, &want).report(t, "TrustPolicy")
			})
		}
	})

	t.Run("UpdateAndBoundary", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a, b := mustAccount(t, st), mustAccount(t, st)
		p := newTrustPolicy(a.ID, 0)
		must(t, st.CreateTrustPolicy(ctx, p), "CreateTrustPolicy")

		_, err := st.TrustPolicy(ctx, b.ID, p.ID)
		wantCode(t, err, tokend.ENotFound, "TrustPolicy(other account)")
		other := *p
		other.AccountID = b.ID
		wantCode(t, st.UpdateTrustPolicy(ctx, &other), tokend.ENotFound, "UpdateTrustPolicy(other account)")
		wantCode(t, st.CreateTrustPolicy(ctx, newTrustPolicy(999999, 0)), tokend.ENotFound, "CreateTrustPolicy(missing account)")

		p.Name, p.Audience, p.TTL, p.State, p.UpdatedAt = "renamed", "aud2", 30*time.Minute, tokend.StateDeleted, at(time.Hour)
		p.Claims = map[string]string{"sub": "repo:acme/x:*"}
		p.Grants = []perm.Grant{{Set: perm.Readonly, AllProjects: true}}
		must(t, st.UpdateTrustPolicy(ctx, p), "UpdateTrustPolicy")
		got, err := st.TrustPolicy(ctx, a.ID, p.ID)
		must(t, err, "TrustPolicy")
		trustPolicyDiff(got, p).report(t, "after update")
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a, b := mustAccount(t, st), mustAccount(t, st)
		var all []*tokend.TrustPolicy
		for i := range 5 {
			p := newTrustPolicy(a.ID, 0)
			if i%2 == 1 {
				p.Issuer = "https://gitlab.com"
			}
			if i == 4 {
				p.State = tokend.StateDeleted
			}
			must(t, st.CreateTrustPolicy(ctx, p), "CreateTrustPolicy")
			all = append(all, p)
		}
		must(t, st.CreateTrustPolicy(ctx, newTrustPolicy(b.ID, 0)), "CreateTrustPolicy(b)")
		id := func(p *tokend.TrustPolicy) tokend.TrustPolicyID { return p.ID }
		tests := []struct {
			name      string
			f         tokend.TrustPolicyFilter
			want      []tokend.TrustPolicyID
			wantTotal int
		}{
			{"all", tokend.TrustPolicyFilter{AccountID: a.ID}, ids(all, id), 5},
			{"active", tokend.TrustPolicyFilter{AccountID: a.ID, State: tokend.StateActive}, ids(all[:4], id), 4},
			{"issuer", tokend.TrustPolicyFilter{AccountID: a.ID, Issuer: "https://gitlab.com"}, []tokend.TrustPolicyID{all[1].ID, all[3].ID}, 2},
			{"issuer active", tokend.TrustPolicyFilter{AccountID: a.ID, State: tokend.StateActive,
				Issuer: "https://token.actions.githubusercontent.com"}, []tokend.TrustPolicyID{all[0].ID, all[2].ID}, 2},
			{"page", tokend.TrustPolicyFilter{AccountID: a.ID, Page: tokend.Page{Limit: 2, Offset: 1}}, []tokend.TrustPolicyID{all[1].ID, all[2].ID}, 5},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, total, err := st.ListTrustPolicies(ctx, tt.f)
				must(t, err, "ListTrustPolicies")
				wantIDs(t, "ListTrustPolicies", ids(got, id), tt.want)
				if total != tt.wantTotal {
					t.Errorf("total: got %d, want %d", total, tt.wantTotal)
				}
			})
		}
	})

	t.Run("RevokeTokens", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a, b := mustAccount(t, st), mustAccount(t, st)
		p, q := newTrustPolicy(a.ID, 0), newTrustPolicy(a.ID, 0)
		must(t, st.CreateTrustPolicy(ctx, p), "CreateTrustPolicy")
		must(t, st.CreateTrustPolicy(ctx, q), "CreateTrustPolicy")
		minted := func(policyID tokend.TrustPolicyID, state tokend.State) *tokend.Token {
			tk := newServiceToken(a.ID, 0)
			tk.TrustPolicyID, tk.State, tk.ExpiresAt = policyID, state, at(15*time.Minute)
			return mustToken(t, st, tk)
		}
		live1, live2 := minted(p.ID, tokend.StateActive), minted(p.ID, tokend.StateActive)
		dead := minted(p.ID, tokend.StateDeleted)
		otherPolicy := minted(q.ID, tokend.StateActive)
		plain := mustToken(t, st, newServiceToken(a.ID, 0))

		got, err := st.Token(ctx, live1.AccountID, live1.ID)
		must(t, err, "Token")
		tokenDiff(got, live1).report(t, "federated token")

		fed, total, err := st.ListTokens(ctx, tokend.TokenFilter{Kind: tokend.KindService, AccountID: a.ID, Federated: true})
		must(t, err, "ListTokens(federated)")
		wantIDs(t, "ListTokens(federated)", ids(fed, tokenID), []tokend.TokenID{live1.ID, live2.ID, dead.ID, otherPolicy.ID})
		if total != 4 {
			t.Errorf("ListTokens(federated) total: got %d, want 4", total)
		}

		none, err := st.RevokeTrustPolicyTokens(ctx, b.ID, p.ID, at(time.Hour))
		must(t, err, "RevokeTrustPolicyTokens(other account)")
		wantIDs(t, "RevokeTrustPolicyTokens(other account)", none, nil)

		revoked, err := st.RevokeTrustPolicyTokens(ctx, a.ID, p.ID, at(time.Hour))
		must(t, err, "RevokeTrustPolicyTokens")
		slices.Sort(revoked)
		wantIDs(t, "RevokeTrustPolicyTokens", revoked, []tokend.TokenID{live1.ID, live2.ID})
		for _, c := range []struct {
			tok   *tokend.Token
			state tokend.State
		}{{live1, tokend.StateDeleted}, {live2, tokend.StateDeleted}, {dead, tokend.StateDeleted},
			{otherPolicy, tokend.StateActive}, {plain, tokend.StateActive}} {
			got, err := st.Token(ctx, c.tok.AccountID, c.tok.ID)
			must(t, err, "Token")
			if got.State != c.state {
				t.Errorf("token %d: state got %d, want %d", c.tok.ID, got.State, c.state)
			}
		}
		got, err = st.Token(ctx, live1.AccountID, live1.ID)
		must(t, err, "Token")
		if !got.UpdatedAt.Equal(at(time.Hour)) {
			t.Errorf("revoked token UpdatedAt: got %v, want %v", got.UpdatedAt, at(time.Hour))
		}
	})
}

// testSubjectTokenUses checks the record of exchanged ID tokens. Contract: a key is accepted
// once while its record lives (EConflict after); a record expired at now is replaced;
// DeleteExpiredSubjectTokens deletes those at or before now and counts them.
func testSubjectTokenUses(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	k1, k2 := randomHash(), randomHash()
	must(t, st.UseSubjectToken(ctx, k1, at(10*time.Minute), base), "UseSubjectToken")
	wantCode(t, st.UseSubjectToken(ctx, k1, at(10*time.Minute), at(time.Minute)), tokend.EConflict, "UseSubjectToken(again)")
	wantCode(t, st.UseSubjectToken(ctx, k1, at(20*time.Minute), at(10*time.Minute-time.Microsecond)), tokend.EConflict, "UseSubjectToken(just before expiry)")
	must(t, st.UseSubjectToken(ctx, k1, at(30*time.Minute), at(10*time.Minute)), "UseSubjectToken(after expiry)")
	wantCode(t, st.UseSubjectToken(ctx, k1, at(30*time.Minute), at(11*time.Minute)), tokend.EConflict, "UseSubjectToken(renewed)")
	must(t, st.UseSubjectToken(ctx, k2, at(5*time.Minute), base), "UseSubjectToken(k2)")
	// Inside a transaction that rolls back, the record goes with it.
	k3 := randomHash()
	_ = st.Tx(ctx, func(tx tokend.Store) error {
		must(t, tx.UseSubjectToken(ctx, k3, at(time.Hour), base), "UseSubjectToken(in tx)")
		return tokend.Errorf(tokend.EInvalid, "roll back")
	})
	must(t, st.UseSubjectToken(ctx, k3, at(time.Hour), base), "UseSubjectToken(after rollback)")

	n, err := st.DeleteExpiredSubjectTokens(ctx, at(5*time.Minute))
	must(t, err, "DeleteExpiredSubjectTokens")
	if n != 1 {
		t.Errorf("DeleteExpiredSubjectTokens: got %d, want 1", n)
	}
	must(t, st.UseSubjectToken(ctx, k2, at(time.Hour), base), "UseSubjectToken(k2 after sweep)")
	wantCode(t, st.UseSubjectToken(ctx, k1, at(time.Hour), at(time.Minute)), tokend.EConflict, "UseSubjectToken(k1 kept)")
}
