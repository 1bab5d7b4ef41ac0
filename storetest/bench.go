package storetest

import (
	"fmt"
	"testing"
	"time"

	"tokend"
)

// BenchmarkListTokens measures a page of one account's token list as the console asks for it
// (newest first, searched, filtered) against the same page by id, over n tokens, so that the
// cost of filtering and ordering in SQL reads as a ratio within one run.
func BenchmarkListTokens(b *testing.B, open func(testing.TB) tokend.Store, n int) {
	st := open(b)
	ctx := b.Context()
	a := mustAccount(b, st)
	u := mustUser(b, st)
	must(b, st.Tx(ctx, func(tx tokend.Store) error {
		for i := range n {
			t := newServiceToken(a.ID, u.ID)
			t.Name = fmt.Sprintf("job %05d", i)
			t.CreatedAt = at(time.Duration(i) * time.Second)
			if i%3 == 0 {
				t.ExpiresAt = at(time.Duration(n+i) * time.Second)
			}
			if err := tx.CreateToken(ctx, t); err != nil {
				return err
			}
		}
		return nil
	}), "CreateToken")
	page := tokend.Page{Limit: 50}
	for _, bb := range []struct {
		name string
		f    tokend.TokenFilter
	}{
		{"by id", tokend.TokenFilter{}},
		{"newest first", tokend.TokenFilter{Order: tokend.Order{Field: "created_at", Desc: true}}},
		{"expiring soonest", tokend.TokenFilter{Order: tokend.Order{Field: "expires_at"}}},
		{"by name", tokend.TokenFilter{Order: tokend.Order{Field: "name"}}},
		{"search, newest first", tokend.TokenFilter{Search: "job 1", Order: tokend.Order{Field: "created_at", Desc: true}}},
		{"never used, idle, newest first", tokend.TokenFilter{NeverUsed: true, IdleBefore: at(time.Duration(n/2) * time.Second),
			Order: tokend.Order{Field: "created_at", Desc: true}}},
	} {
		f := bb.f
		f.Kind, f.AccountID, f.State, f.Page = tokend.KindService, a.ID, tokend.StateActive, page
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := st.ListTokens(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
