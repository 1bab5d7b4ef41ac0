package storetest

import (
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func testCapabilityUses(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u := mustUser(t, st)
	tok := mustToken(t, st, newPAT(a.ID, u.ID))
	other := mustToken(t, st, newPAT(a.ID, u.ID))
	day := func(n int) time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	use := func(id tokend.TokenID, d int, r perm.Resource, acc perm.Access, project tokend.ProjectID, n int64) tokend.CapabilityUse {
		return tokend.CapabilityUse{TokenID: id, Day: day(d), Resource: r, Access: acc, ProjectID: project, Count: n}
	}

	must(t, st.AddCapabilityUses(ctx, nil), "AddCapabilityUses(nil)")
	must(t, st.AddCapabilityUses(ctx, []tokend.CapabilityUse{
		use(tok.ID, 0, perm.Projects, perm.Read, 7, 3),
		use(tok.ID, 0, perm.Projects, perm.Read, 8, 1),
		use(tok.ID, 2, perm.AuditLog, perm.Read, 0, 2),
		use(other.ID, 0, perm.Jobs, perm.Write, 7, 4),
	}), "AddCapabilityUses")
	// Contract: counts of the same (token, day, capability, project) add up, within a batch
	// and across batches; read and write of one resource are two capabilities.
	must(t, st.AddCapabilityUses(ctx, []tokend.CapabilityUse{
		use(tok.ID, 0, perm.Projects, perm.Read, 7, 1),
		use(tok.ID, 0, perm.Projects, perm.Read, 7, 1),
		use(tok.ID, 0, perm.Projects, perm.Write, 7, 1),
	}), "AddCapabilityUses again")

	tests := []struct {
		name  string
		token tokend.TokenID
		since time.Time
		want  []tokend.CapabilityUse
	}{
		{"all days, by day, capability, project", tok.ID, day(-10), []tokend.CapabilityUse{
			use(tok.ID, 0, perm.Projects, perm.Read, 7, 5),
			use(tok.ID, 0, perm.Projects, perm.Read, 8, 1),
			use(tok.ID, 0, perm.Projects, perm.Write, 7, 1),
			use(tok.ID, 2, perm.AuditLog, perm.Read, 0, 2),
		}},
		{"since is inclusive", tok.ID, day(2), []tokend.CapabilityUse{use(tok.ID, 2, perm.AuditLog, perm.Read, 0, 2)}},
		{"after the last day", tok.ID, day(3), nil},
		{"another token", other.ID, day(-1), []tokend.CapabilityUse{use(other.ID, 0, perm.Jobs, perm.Write, 7, 4)}},
		{"no such token", 999999, day(-1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.CapabilityUses(ctx, tt.token, tt.since)
			must(t, err, "CapabilityUses")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rows %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.TokenID != w.TokenID || !g.Day.Equal(w.Day) || g.Resource != w.Resource || g.Access != w.Access ||
					g.ProjectID != w.ProjectID || g.Count != w.Count {
					t.Errorf("row %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
	// Contract: a use of a token that does not exist fails the batch with ENotFound.
	wantCode(t, st.AddCapabilityUses(ctx, []tokend.CapabilityUse{use(999999, 0, perm.Jobs, perm.Read, 0, 1)}),
		tokend.ENotFound, "AddCapabilityUses(missing token)")
}
