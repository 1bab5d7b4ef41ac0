// Package verifyrow decodes what a store reads for the verification of a token not in the
// cache. SQLite's statement packs it in two text columns, the token's fields and its grants:
// a column per field and a row per grant cost its driver two strings for each column of
// every query. PostgreSQL's reads the fields as columns and the grants packed, from columns
// the database keeps (postgres/verify.go): DecodeGrants.
//
// The token column holds, separated by Unit, in this order: id, kind, account id, user id,
// uid, state, expires at, last used at, created at, rotated at, disabled at, enabled at, and
// the membership's license and state (for a PAT whose user is a member of its account; else
// empty). Times are Unix microseconds; NULL is empty. The grants column holds grants separated
// by Record, in permission id order, each with, separated by Unit: its id, set, all projects
// (1 or 0), project id (empty: none) and writable environment categories (a JSON array); it
// is NULL or empty when there are none.
//
// Neither separator appears in a value: ids, states and times are integers, kinds, licenses
// and permission sets are names, uids are base62, and JSON escapes control characters.
package verifyrow

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/perm"
)

// The separators, which the statements write as chr(31) and chr(30).
const (
	Unit   = '\x1f'
	Record = '\x1e'
)

// Decode decodes a verification row: the token, with the fields Store.TokenForVerify names
// and a service token's grants as its Permissions, and for a PAT its user's membership and
// grants.
func Decode(token, grants string) (*tokend.Token, *tokend.MemberAccess, error) {
	f := fields{s: token}
	t := &tokend.Token{ID: tokend.TokenID(f.int())}
	t.Kind = tokend.TokenKind(f.next()) // a substring: a principal keeps its kind's constant
	t.AccountID, t.UserID = tokend.AccountID(f.int()), tokend.UserID(f.int())
	// Its own string: the principal keeps the uid for as long as it is cached, and a
	// substring would keep the whole row.
	t.UID = strings.Clone(f.next())
	t.State = tokend.State(f.int())
	t.ExpiresAt, t.LastUsedAt, t.CreatedAt = f.time(), f.time(), f.time()
	t.RotatedAt, t.DisabledAt, t.EnabledAt = f.time(), f.time(), f.time()
	license, mstate := f.next(), f.next()
	var access *tokend.MemberAccess
	if t.Kind == tokend.KindPAT {
		// A membership's state is never NULL: empty is no membership.
		access = &tokend.MemberAccess{Member: mstate != "", License: perm.License(license)}
		if access.Member {
			access.State = tokend.State(f.parse(mstate))
		}
	}
	if err := f.end(); err != nil {
		return nil, nil, err
	}
	if err := DecodeGrants(grants, t, access); err != nil {
		return nil, nil, err
	}
	return t, access, nil
}

// DecodeGrants decodes a packed grants column into access's Grants, for a PAT (access not
// nil), or t's Permissions, for a service token.
func DecodeGrants(grants string, t *tokend.Token, access *tokend.MemberAccess) error {
	if grants == "" {
		return nil
	}
	n := strings.Count(grants, string(Record)) + 1
	if access != nil {
		access.Grants = make([]perm.Grant, 0, n)
	} else {
		t.Permissions = make([]tokend.TokenPermission, 0, n)
	}
	for rest, more := grants, true; more; {
		var rec string
		rec, rest, more = strings.Cut(rest, string(Record))
		f := fields{s: rec}
		id := f.int()
		g := perm.Grant{Set: perm.Set(f.next()), AllProjects: f.next() == "1", ProjectID: f.int()}
		cats := f.next()
		if err := f.end(); err != nil {
			return err
		}
		var err error
		if g.WritableEnvironmentCategories, err = Categories(cats); err != nil {
			return fmt.Errorf("verify row: environment categories: %w", err)
		}
		if access != nil {
			access.Grants = append(access.Grants, g)
		} else {
			t.Permissions = append(t.Permissions, tokend.TokenPermission{ID: id, Grant: g})
		}
	}
	return nil
}

// Categories decodes writable environment categories as the stores keep them: a JSON array,
// empty (or "[]") for none.
func Categories(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var cats []string
	if err := json.Unmarshal([]byte(s), &cats); err != nil {
		return nil, err
	}
	return cats, nil
}

// fields reads the values of a packed column in order; the first error sticks, and end
// reports it.
type fields struct {
	s    string
	done bool // the last value has been read
	err  error
}

func (f *fields) next() string {
	if f.done {
		f.fail(errors.New("too few values"))
		return ""
	}
	v, rest, ok := strings.Cut(f.s, string(Unit))
	f.s, f.done = rest, !ok
	return v
}

// int reads an integer; empty (NULL) is zero.
func (f *fields) int() int64 {
	v := f.next()
	if v == "" {
		return 0
	}
	return f.parse(v)
}

// time reads a time in Unix microseconds; empty (NULL) is the zero time.
func (f *fields) time() time.Time {
	v := f.next()
	if v == "" {
		return time.Time{}
	}
	return time.UnixMicro(f.parse(v)).UTC()
}

func (f *fields) parse(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f.fail(err)
	}
	return n
}

func (f *fields) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

// end reports the first error, or values left over.
func (f *fields) end() error {
	if f.err == nil && !f.done {
		f.err = errors.New("too many values")
	}
	if f.err != nil {
		return fmt.Errorf("verify row: %w", f.err)
	}
	return nil
}
