package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// diffs collects the fields of a row read back that differ from what was written.
type diffs []string

func (d *diffs) addf(format string, args ...any) { *d = append(*d, fmt.Sprintf(format, args...)) }

// report fails tb once per differing field.
func (d diffs) report(tb testing.TB, what string) {
	tb.Helper()
	for _, s := range d {
		tb.Errorf("%s: %s", what, s)
	}
}

func eq[T comparable](d *diffs, field string, got, want T) {
	if got != want {
		d.addf("%s: got %v, want %v", field, got, want)
	}
}

// eqTime compares at the microsecond precision stores keep; the zero time must stay zero.
func eqTime(d *diffs, field string, got, want time.Time) {
	if got.IsZero() != want.IsZero() || !got.Truncate(time.Microsecond).Equal(want.Truncate(time.Microsecond)) {
		d.addf("%s: got %v, want %v", field, got, want)
	}
}

// eqBytes treats nil and empty alike.
func eqBytes(d *diffs, field string, got, want []byte) {
	if !bytes.Equal(got, want) {
		d.addf("%s: got %x, want %x", field, got, want)
	}
}

// eqStrings treats nil and empty alike.
func eqStrings(d *diffs, field string, got, want []string) {
	if len(got) != len(want) || (len(got) > 0 && !equalSlices(got, want)) {
		d.addf("%s: got %q, want %q", field, got, want)
	}
}

func accountDiff(got, want *tokend.Account) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "Name", got.Name, want.Name)
	eq(&d, "Plan", got.Plan, want.Plan)
	eq(&d, "State", got.State, want.State)
	// Second precision is all a lifetime needs.
	eq(&d, "PATMaxLifetime", got.PATMaxLifetime.Truncate(time.Second), want.PATMaxLifetime.Truncate(time.Second))
	eqTime(&d, "LegacyKeysUntil", got.LegacyKeysUntil, want.LegacyKeysUntil)
	eq(&d, "InactivityDays", got.InactivityDays, want.InactivityDays)
	eq(&d, "ReuseRevokesChain", got.ReuseRevokesChain, want.ReuseRevokesChain)
	eq(&d, "OverlapFromFirstUse", got.OverlapFromFirstUse, want.OverlapFromFirstUse)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}

func userDiff(got, want *tokend.User) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "Email", got.Email, want.Email)
	eq(&d, "FirstName", got.FirstName, want.FirstName)
	eq(&d, "LastName", got.LastName, want.LastName)
	eq(&d, "PasswordHash", got.PasswordHash, want.PasswordHash)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}

func membershipDiff(got, want *tokend.Membership) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "UserID", got.UserID, want.UserID)
	eq(&d, "License", got.License, want.License)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}

func projectDiff(got, want *tokend.Project) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "Name", got.Name, want.Name)
	eq(&d, "Description", got.Description, want.Description)
	eq(&d, "Type", got.Type, want.Type)
	eq(&d, "Subdirectory", got.Subdirectory, want.Subdirectory)
	eq(&d, "Refs", got.Refs, want.Refs)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}

// groupDiff compares the group's own fields; permissions are checked with grantsDiff.
func groupDiff(got, want *tokend.Group) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "Name", got.Name, want.Name)
	eq(&d, "AssignByDefault", got.AssignByDefault, want.AssignByDefault)
	eqStrings(&d, "SSOMappingGroups", got.SSOMappingGroups, want.SSOMappingGroups)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d
}

// tokenDiff compares the token's own fields; permissions are checked with grantsDiff.
func tokenDiff(got, want *tokend.Token) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "Kind", got.Kind, want.Kind)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "UserID", got.UserID, want.UserID)
	eq(&d, "CreatedBy", got.CreatedBy, want.CreatedBy)
	eq(&d, "UID", got.UID, want.UID)
	eq(&d, "Name", got.Name, want.Name)
	eqBytes(&d, "Hash", got.Hash, want.Hash)
	eq(&d, "SlowHash", got.SlowHash, want.SlowHash)
	eq(&d, "LegacyFormat", got.LegacyFormat, want.LegacyFormat)
	eq(&d, "TrustPolicyID", got.TrustPolicyID, want.TrustPolicyID)
	eq(&d, "State", got.State, want.State)
	eqTime(&d, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	eqTime(&d, "LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	eq(&d, "LastUsedIP", got.LastUsedIP, want.LastUsedIP)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	eqTime(&d, "RotatedAt", got.RotatedAt, want.RotatedAt)
	return d
}

func auditDiff(got, want *tokend.AuditEvent) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "ActorUserID", got.ActorUserID, want.ActorUserID)
	eq(&d, "ActorToken", got.ActorToken, want.ActorToken)
	eq(&d, "Action", got.Action, want.Action)
	eq(&d, "TargetType", got.TargetType, want.TargetType)
	eq(&d, "TargetID", got.TargetID, want.TargetID)
	if len(got.Detail) != len(want.Detail) {
		d.addf("Detail: got %v, want %v", got.Detail, want.Detail)
	} else {
		for k, v := range want.Detail {
			if g, ok := got.Detail[k]; !ok || g != v {
				d.addf("Detail: got %v, want %v", got.Detail, want.Detail)
				break
			}
		}
	}
	eq(&d, "IP", got.IP, want.IP)
	eq(&d, "UserAgent", got.UserAgent, want.UserAgent)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	return d
}

// grantsDiff compares permissions read back (ids and grants) with the grants written. Contract:
// permissions come back ordered by id, which is the order they were given in, with ids > 0; a
// grant's nil and empty WritableEnvironmentCategories are alike.
func grantsDiff(gotIDs []int64, got, want []perm.Grant) diffs {
	var d diffs
	if len(got) != len(want) {
		if len(got) <= 10 && len(want) <= 10 {
			d.addf("permissions: got %d grants %v, want %d grants %v", len(got), got, len(want), want)
		} else {
			d.addf("permissions: got %d grants, want %d", len(got), len(want))
		}
		return d
	}
	for i := range want {
		if len(d) >= 5 {
			d.addf("... and maybe more differences after Permissions[%d]", i-1)
			break
		}
		field := fmt.Sprintf("Permissions[%d]", i)
		if gotIDs[i] <= 0 {
			d.addf("%s.ID: got %d, want > 0", field, gotIDs[i])
		}
		if i > 0 && gotIDs[i] <= gotIDs[i-1] {
			d.addf("%s.ID: got %d after %d, want ascending ids", field, gotIDs[i], gotIDs[i-1])
		}
		eq(&d, field+".Set", got[i].Set, want[i].Set)
		eq(&d, field+".AllProjects", got[i].AllProjects, want[i].AllProjects)
		eq(&d, field+".ProjectID", got[i].ProjectID, want[i].ProjectID)
		eqStrings(&d, field+".WritableEnvironmentCategories", got[i].WritableEnvironmentCategories,
			want[i].WritableEnvironmentCategories)
	}
	return d
}

func groupGrantsDiff(g *tokend.Group, want []perm.Grant) diffs {
	return grantsDiff(ids(g.Permissions, func(p tokend.GroupPermission) int64 { return p.ID }), g.Grants(), want)
}

func tokenGrantsDiff(t *tokend.Token, want []perm.Grant) diffs {
	return grantsDiff(ids(t.Permissions, func(p tokend.TokenPermission) int64 { return p.ID }), t.Grants(), want)
}
