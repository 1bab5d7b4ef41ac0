package verifyrow

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// row joins values with Unit.
func row(values ...string) string { return strings.Join(values, string(Unit)) }

func TestDecode(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	us := func(t time.Time) string { return itoa(t.UnixMicro()) }
	// Every time distinct, so that two swapped show.
	at := func(h int) time.Time { return created.Add(time.Duration(h) * time.Hour) }
	pat := row("7", "pat", "3", "5", "UidOf10Chr", "1", us(at(6)), us(at(1)), us(created), us(at(2)), us(at(3)), us(at(4)), "developer", "1")
	grants := row("11", "job_admin", "0", "42", `["production","staging"]`) + string(Record) + row("12", "member", "1", "", "[]")

	tok, access, err := Decode(pat, grants)
	if err != nil {
		t.Fatalf("Decode(pat): %v", err)
	}
	if tok.ID != 7 || tok.Kind != tokend.KindPAT || tok.AccountID != 3 || tok.UserID != 5 || tok.UID != "UidOf10Chr" ||
		tok.State != tokend.StateActive || !tok.ExpiresAt.Equal(at(6)) || !tok.LastUsedAt.Equal(at(1)) ||
		!tok.CreatedAt.Equal(created) || !tok.RotatedAt.Equal(at(2)) || !tok.DisabledAt.Equal(at(3)) || !tok.EnabledAt.Equal(at(4)) {
		t.Errorf("token: got %+v", tok)
	}
	if access == nil || !access.Member || access.License != perm.LicenseDeveloper || access.State != tokend.StateActive {
		t.Fatalf("access: got %+v, want an active developer membership", access)
	}
	want := []perm.Grant{{Set: perm.JobAdmin, ProjectID: 42, WritableEnvironmentCategories: []string{"production", "staging"}},
		{Set: perm.Member, AllProjects: true}}
	if len(access.Grants) != 2 || access.Grants[0].Set != want[0].Set || access.Grants[0].ProjectID != 42 ||
		strings.Join(access.Grants[0].WritableEnvironmentCategories, ",") != "production,staging" ||
		access.Grants[1].Set != want[1].Set || !access.Grants[1].AllProjects || access.Grants[1].WritableEnvironmentCategories != nil {
		t.Errorf("grants: got %+v, want %+v", access.Grants, want)
	}

	service := row("8", "service", "3", "", "SvcUid0001", "1", "", "", us(created), "", "", "", "", "")
	tok, access, err = Decode(service, row("13", "account_admin", "1", "", "[]"))
	if err != nil {
		t.Fatalf("Decode(service): %v", err)
	}
	if access != nil || len(tok.Permissions) != 1 || tok.Permissions[0].ID != 13 || tok.Permissions[0].Set != perm.AccountAdmin {
		t.Errorf("service token: got access %+v, permissions %+v", access, tok.Permissions)
	}

	outsider := row("9", "pat", "3", "6", "OutUid0001", "1", "", "", us(created), "", "", "", "", "")
	if _, access, err = Decode(outsider, ""); err != nil || access == nil || access.Member || len(access.Grants) != 0 {
		t.Errorf("PAT of no member: got %+v, %v; want no membership", access, err)
	}
}

// TestDecodeRefuses: a row that is not what the statement writes is an error, never a token
// with fields shifted or missing.
func TestDecodeRefuses(t *testing.T) {
	good := row("7", "pat", "3", "5", "UidOf10Chr", "1", "", "", "1", "", "", "", "developer", "1")
	cases := []struct{ name, token, grants string }{
		{"too few values", row("7", "pat", "3"), ""},
		{"too many values", good + string(Unit) + "x", ""},
		{"id not a number", strings.Replace(good, "7", "x", 1), ""},
		{"time not a number", row("7", "pat", "3", "5", "UidOf10Chr", "1", "soon", "", "1", "", "", "", "developer", "1"), ""},
		{"membership state not a number", row("7", "pat", "3", "5", "UidOf10Chr", "1", "", "", "1", "", "", "", "developer", "on"), ""},
		{"grant short", good, row("11", "member", "1")},
		{"grant long", good, row("11", "member", "1", "", "[]", "x")},
		{"grant project not a number", good, row("11", "member", "0", "p", "[]")},
		{"categories not JSON", good, row("11", "member", "0", "4", "[production")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tok, _, err := Decode(tc.token, tc.grants); err == nil {
				t.Errorf("got %+v, want an error", tok)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
