package storetest

import (
	"testing"
	"time"

	"tokend"
)

// testListTokensQuery pins down a token list's search, the filters a person picks and its
// orders. Contract:
//   - Search: the name contains it, ignoring (ASCII) case, or the uid starts with it, with case;
//     LIKE's wildcards mean themselves;
//   - NeverUsed: no last use; Disabled: a DisabledAt; IdleBefore t: the last use, or the creation
//     of a token never used, strictly before t;
//   - Order by created_at, last_used_at, expires_at or name (ASCII case ignored); ties and tokens
//     without the field (never used, no expiry) go by id, and the latter come last in both
//     directions.
func testListTokensQuery(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	b := mustAccount(t, st)
	u := mustUser(t, st)

	mk := func(accountID tokend.AccountID, uid, name string, created, expires time.Time) *tokend.Token {
		t.Helper()
		tok := newServiceToken(accountID, u.ID)
		tok.UID, tok.Name, tok.CreatedAt, tok.UpdatedAt, tok.ExpiresAt = uid+unique()[:6], name, created, created, expires
		return mustToken(t, st, tok)
	}
	t1 := mk(a.ID, "Uid1", "Airflow production", at(time.Hour), at(100*time.Hour))
	t2 := mk(a.ID, "Uid2", "dbt Cloud CI", at(2*time.Hour), time.Time{})
	t3 := mk(a.ID, "Uid3", "Hightouch sync", at(3*time.Hour), at(50*time.Hour))
	t4 := mk(a.ID, "Uid4", "airflow staging", at(4*time.Hour), at(30*time.Hour))
	mk(b.ID, "Uid5", "Airflow elsewhere", at(time.Hour), time.Time{})

	must(t, st.RecordTokenUses(ctx, []tokend.TokenUse{
		{TokenID: t1.ID, At: at(10 * time.Hour), IP: "192.0.2.1"},
		{TokenID: t3.ID, At: at(5 * time.Hour), IP: "192.0.2.1"},
	}), "RecordTokenUses")
	got, err := st.Token(ctx, a.ID, t3.ID)
	must(t, err, "Token")
	got.DisabledAt, got.UpdatedAt = at(20*time.Hour), at(20*time.Hour)
	must(t, st.UpdateToken(ctx, got.AccountID, got), "UpdateToken")

	f := func(mod func(*tokend.TokenFilter)) tokend.TokenFilter {
		tf := tokend.TokenFilter{Kind: tokend.KindService, AccountID: a.ID}
		mod(&tf)
		return tf
	}
	order := func(field string, desc bool) func(*tokend.TokenFilter) {
		return func(tf *tokend.TokenFilter) { tf.Order = tokend.Order{Field: field, Desc: desc} }
	}
	tests := []struct {
		name      string
		f         tokend.TokenFilter
		want      []*tokend.Token
		wantTotal int // len(want) unless set
	}{
		{"search a name, any case", f(func(tf *tokend.TokenFilter) { tf.Search = "AIRflow" }), []*tokend.Token{t1, t4}, 0},
		{"search inside a name", f(func(tf *tokend.TokenFilter) { tf.Search = "cloud c" }), []*tokend.Token{t2}, 0},
		{"search a uid prefix", f(func(tf *tokend.TokenFilter) { tf.Search = "Uid3" }), []*tokend.Token{t3}, 0},
		{"a uid prefix keeps its case", f(func(tf *tokend.TokenFilter) { tf.Search = "uid3" }), nil, 0},
		{"a uid is matched at its start only", f(func(tf *tokend.TokenFilter) { tf.Search = t3.UID[1:] }), nil, 0},
		{"wildcards are plain text", f(func(tf *tokend.TokenFilter) { tf.Search = "%" }), nil, 0},
		{"underscore is plain text", f(func(tf *tokend.TokenFilter) { tf.Search = "_" }), nil, 0},
		{"never used", f(func(tf *tokend.TokenFilter) { tf.NeverUsed = true }), []*tokend.Token{t2, t4}, 0},
		{"disabled", f(func(tf *tokend.TokenFilter) { tf.Disabled = true }), []*tokend.Token{t3}, 0},
		{"idle before 6h (never used counts from creation)", f(func(tf *tokend.TokenFilter) { tf.IdleBefore = at(6 * time.Hour) }),
			[]*tokend.Token{t2, t3, t4}, 0},
		{"idle before 4h (strict)", f(func(tf *tokend.TokenFilter) { tf.IdleBefore = at(4 * time.Hour) }), []*tokend.Token{t2}, 0},
		{"never used and idle", f(func(tf *tokend.TokenFilter) { tf.NeverUsed, tf.IdleBefore = true, at(3*time.Hour) }),
			[]*tokend.Token{t2}, 0},
		{"search and expiring", f(func(tf *tokend.TokenFilter) { tf.Search, tf.ExpiresBefore = "airflow", at(60*time.Hour) }),
			[]*tokend.Token{t4}, 0},

		{"newest first", f(order("created_at", true)), []*tokend.Token{t4, t3, t2, t1}, 0},
		{"oldest first", f(order("created_at", false)), []*tokend.Token{t1, t2, t3, t4}, 0},
		{"recently used, never used last", f(order("last_used_at", true)), []*tokend.Token{t1, t3, t4, t2}, 0},
		{"least recently used, never used last", f(order("last_used_at", false)), []*tokend.Token{t3, t1, t2, t4}, 0},
		{"expiring soonest, no expiry last", f(order("expires_at", false)), []*tokend.Token{t4, t3, t1, t2}, 0},
		{"expiring latest, no expiry last", f(order("expires_at", true)), []*tokend.Token{t1, t3, t4, t2}, 0},
		{"name, case ignored", f(order("name", false)), []*tokend.Token{t1, t4, t2, t3}, 0},
		{"name descending", f(order("name", true)), []*tokend.Token{t3, t2, t4, t1}, 0},
		{"a page of a filtered, ordered list", f(func(tf *tokend.TokenFilter) {
			tf.Search, tf.Order, tf.Page = "airflow", tokend.Order{Field: "name", Desc: true}, tokend.Page{Limit: 1, Offset: 1}
		}), []*tokend.Token{t1}, 2},
		{"past the end of a filtered list", f(func(tf *tokend.TokenFilter) {
			tf.NeverUsed, tf.Page = true, tokend.Page{Limit: 10, Offset: 10}
		}), nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := st.ListTokens(ctx, tt.f)
			must(t, err, "ListTokens")
			wantIDs(t, "ListTokens", ids(got, tokenID), ids(tt.want, tokenID))
			wantTotal := tt.wantTotal
			if wantTotal == 0 {
				wantTotal = len(tt.want)
			}
			if total != wantTotal {
				t.Errorf("ListTokens total: got %d, want %d", total, wantTotal)
			}
		})
	}
}
