package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/perm"
)

// The verification of a token not in the cache reads one row of two text columns: the fields
// of the token that verifying it reads (with, for a PAT, its user's membership in the token's
// account), and its grants (a service token's own, or those of the PAT's user's active groups
// in the account), each packed by the statement. Packing is what makes the read cheap: the
// driver builds two strings for each column of every query it runs (its name and declared
// type), and a column per field and a row per grant came to 28 columns and 2–3 rows.
//
// Fields are separated by unitSep and grants by recordSep. Neither appears in a value: ids,
// states and times are integers, kinds, licenses and permission sets are names, uids are
// base62, and the environment categories are JSON, which escapes control characters.
const (
	unitSep   = '\x1f'
	recordSep = '\x1e'
)

// packed is the SQL expression of exprs joined by unitSep; each must not be NULL.
func packed(exprs ...string) string {
	return strings.Join(exprs, " || char(31) || ")
}

// verifyGrants packs a grant row of p (group_permissions or token_permissions): id, set, all
// projects (0 or 1), project id (empty: none), environment categories (JSON).
var verifyGrants = `group_concat(` + packed("p.id", "p.permission_set", "p.all_projects",
	"coalesce(p.project_id, '')", "p.writable_environment_categories") + `, char(30) ORDER BY p.id)`

// verifyQuery reads a token by hash with what verifying it needs. The fields of its first
// column, in order, are those decodeVerified reads; a NULL column is empty.
var verifyQuery = `
	SELECT ` + packed("t.id", "t.kind", "coalesce(t.account_id, '')", "coalesce(t.user_id, '')", "t.uid", "t.state",
	"coalesce(t.expires_at, '')", "coalesce(t.last_used_at, '')", "t.created_at", "coalesce(t.rotated_at, '')",
	"coalesce(t.disabled_at, '')", "coalesce(t.enabled_at, '')", "coalesce(m.license_type, '')", "coalesce(m.state, '')") + ` AS token,
		CASE t.kind
		WHEN 'service' THEN (SELECT ` + verifyGrants + ` FROM token_permissions p WHERE p.token_id = t.id)
		WHEN 'pat' THEN (SELECT ` + verifyGrants + ` FROM group_members gm
			JOIN account_groups g ON g.id = gm.group_id AND g.account_id = t.account_id AND g.state = 1
			JOIN group_permissions p ON p.group_id = g.id
			WHERE gm.account_id = t.account_id AND gm.user_id = t.user_id)
		END AS grants
	FROM tokens t
	LEFT JOIN memberships m ON t.kind = 'pat' AND m.account_id = t.account_id AND m.user_id = t.user_id
	WHERE t.hash = ?`

// verifyRow holds TokenForVerify's scan destinations, in one allocation.
type verifyRow struct {
	token  string
	grants sql.NullString
}

// TokenForVerify returns the fields of the token that verification reads (ID, Kind,
// AccountID, UserID, UID, State, ExpiresAt, LastUsedAt, CreatedAt, RotatedAt, DisabledAt,
// EnabledAt and a service token's Permissions), in one query.
func (s *Store) TokenForVerify(ctx context.Context, hash []byte) (*tokend.Token, *tokend.MemberAccess, error) {
	r := new(verifyRow)
	if err := s.reader().QueryRowContext(ctx, verifyQuery, hash).Scan(&r.token, &r.grants); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, notFound("Token")
		}
		return nil, nil, translate(err)
	}
	return decodeVerified(r.token, r.grants.String)
}

// decodeVerified decodes verifyQuery's columns.
func decodeVerified(token, grants string) (*tokend.Token, *tokend.MemberAccess, error) {
	f := fields{s: token, sep: unitSep}
	t := &tokend.Token{ID: tokend.TokenID(f.int())}
	t.Kind = tokenKind(f.next())
	t.AccountID, t.UserID = tokend.AccountID(f.int()), tokend.UserID(f.int())
	// Its own string: the principal keeps the uid for as long as it is cached, and a
	// substring would keep the whole row.
	t.UID = strings.Clone(f.next())
	t.State = tokend.State(f.int())
	t.ExpiresAt, t.LastUsedAt, t.CreatedAt = f.time(), f.time(), f.time()
	t.RotatedAt, t.DisabledAt, t.EnabledAt = f.time(), f.time(), f.time()
	license, mstate := f.next(), f.next()
	if err := f.end(); err != nil {
		return nil, nil, err
	}
	var access *tokend.MemberAccess
	if t.Kind == tokend.KindPAT {
		// The membership's state is never NULL: empty is no membership.
		access = &tokend.MemberAccess{Member: mstate != "", License: perm.License(license)}
		if access.Member {
			n, err := strconv.ParseInt(mstate, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("sqlite: verify: membership state %q: %w", mstate, err)
			}
			access.State = tokend.State(n)
		}
	}
	if grants == "" {
		return t, access, nil
	}
	n := strings.Count(grants, string(recordSep)) + 1
	if access != nil {
		access.Grants = make([]perm.Grant, 0, n)
	} else {
		t.Permissions = make([]tokend.TokenPermission, 0, n)
	}
	for rest, more := grants, true; more; {
		var rec string
		rec, rest, more = strings.Cut(rest, string(recordSep))
		f := fields{s: rec, sep: unitSep}
		id, set, all, project, cats := f.int(), f.next(), f.next(), f.int(), f.next()
		if err := f.end(); err != nil {
			return nil, nil, err
		}
		g, err := decodeGrant(set, all == "1", sql.NullInt64{Int64: project, Valid: project != 0}, cats)
		if err != nil {
			return nil, nil, err
		}
		if access != nil {
			access.Grants = append(access.Grants, g)
		} else {
			t.Permissions = append(t.Permissions, tokend.TokenPermission{ID: id, Grant: g})
		}
	}
	return t, access, nil
}

// tokenKind is the kind named k, as a constant where it is one (a substring of the row would
// keep the row).
func tokenKind(k string) tokend.TokenKind {
	for _, c := range []tokend.TokenKind{tokend.KindPAT, tokend.KindService, tokend.KindLegacyKey, tokend.KindSCIM} {
		if k == string(c) {
			return c
		}
	}
	return tokend.TokenKind(strings.Clone(k))
}

// fields reads the values of a packed row in order; the first error sticks and end reports it.
type fields struct {
	s    string
	sep  byte
	done bool // the last value has been read
	err  error
}

func (f *fields) next() string {
	if f.done {
		f.fail(errors.New("too few values"))
		return ""
	}
	v, rest, ok := strings.Cut(f.s, string(f.sep))
	f.s, f.done = rest, !ok
	return v
}

// int reads an integer; empty (NULL) is zero.
func (f *fields) int() int64 {
	v := f.next()
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f.fail(err)
	}
	return n
}

// time reads a time in Unix microseconds; empty (NULL) is the zero time.
func (f *fields) time() time.Time {
	v := f.next()
	if v == "" {
		return time.Time{}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		f.fail(err)
	}
	return time.UnixMicro(n).UTC()
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
		return fmt.Errorf("sqlite: verify: unreadable row: %w", f.err)
	}
	return nil
}
