package storetest

import (
	"fmt"
	"testing"
	"time"

	"tokend"
)

// testLegacyUses checks the record of where legacy keys are still used. Contract:
//   - a place is (token, account, method, route, IP, user agent); account 0 ("no account") is a
//     place of its own, one place however often it is recorded;
//   - recording a place again adds its Count, keeps the earliest FirstSeen, and takes LastSeen
//     and LastStatus from the latest LastSeen, whatever order batches arrive in; on a LastSeen
//     tie the use recorded later wins (later in the batch, or in a later batch); the row keeps
//     the UserID it was created with;
//   - a use without LastSeen is not a use and is skipped; one without FirstSeen was first seen
//     at its LastSeen;
//   - a batch is one transaction: a use naming a missing token, user or account is ENotFound and
//     nothing of the batch is recorded;
//   - lists are ordered by LastSeen, newest first, then by when the place was first recorded.
func testLegacyUses(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		key := mustToken(t, st, newLegacyKey(u.ID))

		tests := []struct {
			name string
			use  tokend.LegacyUse
		}{
			{"in an account", tokend.LegacyUse{TokenID: key.ID, UserID: u.ID, AccountID: a.ID, Method: "POST",
				Route: "POST /api/v2/accounts/{account_id}/jobs/{id}/run/", IP: "2001:db8::7",
				UserAgent: "python-requests/2.32 (naïve ✓)", Count: 1 << 40, FirstSeen: at(time.Minute),
				LastSeen: at(time.Hour), LastStatus: 201}},
			{"no account", tokend.LegacyUse{TokenID: key.ID, UserID: u.ID, Method: "GET", Route: "GET /api/v2/whoami/",
				IP: "192.0.2.1", UserAgent: "", Count: 1, FirstSeen: at(2 * time.Hour), LastSeen: at(2 * time.Hour),
				LastStatus: 403}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				must(t, st.RecordLegacyUses(ctx, []tokend.LegacyUse{tt.use}), "RecordLegacyUses")
				got := mustLegacyUse(t, st, placeOf(&tt.use))
				legacyUseDiff(got, &tt.use).report(t, "ListLegacyUses")
			})
		}
	})

	t.Run("Accumulate", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		other := mustUser(t, st)
		key := mustToken(t, st, newLegacyKey(u.ID))
		for _, accountID := range []tokend.AccountID{a.ID, 0} {
			t.Run(fmt.Sprintf("account %d", accountID), func(t *testing.T) {
				// use is one batch entry for the place; want is the row after each step.
				use := func(count int64, first, last time.Duration, status int) tokend.LegacyUse {
					l := newLegacyUse(key, accountID, at(last))
					l.Count, l.FirstSeen, l.LastStatus = count, at(first), status
					return l
				}
				steps := []struct {
					name        string
					uses        []tokend.LegacyUse
					count       int64
					first, last time.Duration
					status      int
				}{
					{"first batch", []tokend.LegacyUse{use(3, time.Hour, 2*time.Hour, 200)},
						3, time.Hour, 2 * time.Hour, 200},
					{"a newer batch", []tokend.LegacyUse{use(2, 3*time.Hour, 4*time.Hour, 404)},
						5, time.Hour, 4 * time.Hour, 404},
					// Nodes flush independently: an older batch arrives after a newer one.
					{"an older batch late", []tokend.LegacyUse{use(4, 10*time.Minute, 30*time.Minute, 500)},
						9, 10 * time.Minute, 4 * time.Hour, 404},
					{"a batch spanning both ends", []tokend.LegacyUse{use(1, 5*time.Minute, 5*time.Hour, 204)},
						10, 5 * time.Minute, 5 * time.Hour, 204},
					{"a tie with the stored last use", []tokend.LegacyUse{use(1, 5*time.Hour, 5*time.Hour, 503)},
						11, 5 * time.Minute, 5 * time.Hour, 503},
					{"the place twice in one batch, newer first", []tokend.LegacyUse{
						use(2, 6*time.Hour, 7*time.Hour, 301), use(3, 4*time.Minute, 6*time.Hour, 302)},
						16, 4 * time.Minute, 7 * time.Hour, 301},
					{"the place twice in one batch, a tie", []tokend.LegacyUse{
						use(1, 8*time.Hour, 8*time.Hour, 401), use(1, 8*time.Hour, 8*time.Hour, 402)},
						18, 4 * time.Minute, 8 * time.Hour, 402},
					{"a use by another user id keeps the row's user", []tokend.LegacyUse{func() tokend.LegacyUse {
						l := use(1, 9*time.Hour, 9*time.Hour, 200)
						l.UserID = other.ID
						return l
					}()}, 19, 4 * time.Minute, 9 * time.Hour, 200},
					{"an empty batch", nil, 19, 4 * time.Minute, 9 * time.Hour, 200},
				}
				for _, s := range steps {
					t.Run(s.name, func(t *testing.T) {
						must(t, st.RecordLegacyUses(ctx, s.uses), "RecordLegacyUses")
						want := use(s.count, s.first, s.last, s.status)
						got := mustLegacyUse(t, st, placeOf(&want))
						legacyUseDiff(got, &want).report(t, "after "+s.name)
					})
				}
			})
		}
	})

	t.Run("Places", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		u := mustUser(t, st)
		key := mustToken(t, st, newLegacyKey(u.ID))
		otherKey := mustToken(t, st, newLegacyKey(u.ID))

		// Each use differs from the first in one field of the place.
		tests := []struct {
			name   string
			change func(l *tokend.LegacyUse)
		}{
			{"base", func(*tokend.LegacyUse) {}},
			{"no account", func(l *tokend.LegacyUse) { l.AccountID = 0 }},
			{"another account", func(l *tokend.LegacyUse) { l.AccountID = b.ID }},
			{"another key", func(l *tokend.LegacyUse) { l.TokenID = otherKey.ID }},
			{"another key, no account", func(l *tokend.LegacyUse) { l.TokenID, l.AccountID = otherKey.ID, 0 }},
			{"method", func(l *tokend.LegacyUse) { l.Method = "POST" }},
			{"route", func(l *tokend.LegacyUse) { l.Route = "GET /api/v2/accounts/{account_id}/jobs/" }},
			{"IP", func(l *tokend.LegacyUse) { l.IP = "192.0.2.2" }},
			{"user agent", func(l *tokend.LegacyUse) { l.UserAgent = "dbt-cloud-cli/1.1" }},
			{"user agent's case", func(l *tokend.LegacyUse) { l.UserAgent = "DBT-CLOUD-CLI/1.0" }},
			{"empty user agent", func(l *tokend.LegacyUse) { l.UserAgent = "" }},
		}
		var batch []tokend.LegacyUse
		for i, tt := range tests {
			l := newLegacyUse(key, a.ID, at(time.Duration(len(tests)-i)*time.Minute))
			tt.change(&l)
			batch = append(batch, l)
		}
		// Twice: the second batch must fold into the rows of the first, "no account" included.
		must(t, st.RecordLegacyUses(ctx, batch), "RecordLegacyUses")
		must(t, st.RecordLegacyUses(ctx, batch), "RecordLegacyUses(again)")

		got, err := st.ListLegacyUses(ctx, tokend.LegacyUseFilter{})
		must(t, err, "ListLegacyUses")
		if len(got) != len(tests) {
			t.Errorf("ListLegacyUses: got %d places %v, want %d", len(got), places(got), len(tests))
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := batch[i]
				want.Count = 2
				legacyUseDiff(mustLegacyUse(t, st, placeOf(&want)), &want).report(t, "ListLegacyUses")
			})
		}
	})

	t.Run("Filters", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		idle := mustAccount(t, st)
		u1 := mustUser(t, st)
		u2 := mustUser(t, st)
		k1 := mustToken(t, st, newLegacyKey(u1.ID))
		k2 := mustToken(t, st, newLegacyKey(u2.ID))
		// Newest first: the order every list must keep.
		k1a := newLegacyUse(k1, a.ID, at(5*time.Hour))
		k2none := newLegacyUse(k2, 0, at(4*time.Hour))
		k1b := newLegacyUse(k1, b.ID, at(3*time.Hour))
		k2a := newLegacyUse(k2, a.ID, at(2*time.Hour))
		k1none := newLegacyUse(k1, 0, at(time.Hour))
		must(t, st.RecordLegacyUses(ctx, []tokend.LegacyUse{k1none, k2a, k1b, k2none, k1a}), "RecordLegacyUses")

		tests := []struct {
			name string
			f    tokend.LegacyUseFilter
			want []tokend.LegacyUse
		}{
			{"all", tokend.LegacyUseFilter{}, []tokend.LegacyUse{k1a, k2none, k1b, k2a, k1none}},
			{"account a", tokend.LegacyUseFilter{AccountID: a.ID}, []tokend.LegacyUse{k1a, k2a}},
			{"account b", tokend.LegacyUseFilter{AccountID: b.ID}, []tokend.LegacyUse{k1b}},
			{"account without uses", tokend.LegacyUseFilter{AccountID: idle.ID}, nil},
			{"user 1", tokend.LegacyUseFilter{UserID: u1.ID}, []tokend.LegacyUse{k1a, k1b, k1none}},
			{"user 2", tokend.LegacyUseFilter{UserID: u2.ID}, []tokend.LegacyUse{k2none, k2a}},
			{"user 2 in account a", tokend.LegacyUseFilter{AccountID: a.ID, UserID: u2.ID}, []tokend.LegacyUse{k2a}},
			{"user 2 in account b", tokend.LegacyUseFilter{AccountID: b.ID, UserID: u2.ID}, nil},
			{"user without uses", tokend.LegacyUseFilter{UserID: mustUser(t, st).ID}, nil},
			{"key 1", tokend.LegacyUseFilter{TokenID: k1.ID}, []tokend.LegacyUse{k1a, k1b, k1none}},
			{"key 2 in account a", tokend.LegacyUseFilter{AccountID: a.ID, TokenID: k2.ID}, []tokend.LegacyUse{k2a}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := st.ListLegacyUses(ctx, tt.f)
				must(t, err, "ListLegacyUses")
				wantPlaces(t, got, tt.want)
				for i := range min(len(got), len(tt.want)) {
					legacyUseDiff(got[i], &tt.want[i]).report(t, fmt.Sprintf("ListLegacyUses[%d]", i))
				}
			})
		}
	})

	t.Run("Order", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		key := mustToken(t, st, newLegacyKey(u.ID))
		p := make([]tokend.LegacyUse, 5)
		for i := range p {
			p[i] = newLegacyUse(key, a.ID, base)
			p[i].Route = fmt.Sprintf("GET /api/v2/route/%d/", i)
		}
		// record sends one batch per use, so that each place is created in the order given.
		record := func(t *testing.T, uses ...tokend.LegacyUse) {
			t.Helper()
			for _, l := range uses {
				must(t, st.RecordLegacyUses(ctx, []tokend.LegacyUse{l}), "RecordLegacyUses")
			}
		}
		seen := func(l tokend.LegacyUse, d time.Duration) tokend.LegacyUse {
			l.FirstSeen, l.LastSeen = at(d), at(d)
			return l
		}
		steps := []struct {
			name string
			uses []tokend.LegacyUse
			want []tokend.LegacyUse
		}{
			{"created", []tokend.LegacyUse{seen(p[0], time.Hour), seen(p[1], 3*time.Hour), seen(p[2], time.Hour),
				seen(p[3], 2*time.Hour), seen(p[4], time.Hour)},
				[]tokend.LegacyUse{p[1], p[3], p[0], p[2], p[4]}},
			// p[2] ties p[1] and comes after it, as it was created after it.
			{"a later use ties", []tokend.LegacyUse{seen(p[2], 3*time.Hour)},
				[]tokend.LegacyUse{p[1], p[2], p[3], p[0], p[4]}},
			{"an older use moves nothing", []tokend.LegacyUse{seen(p[4], 30*time.Minute)},
				[]tokend.LegacyUse{p[1], p[2], p[3], p[0], p[4]}},
			{"the oldest becomes the newest", []tokend.LegacyUse{seen(p[4], 4*time.Hour)},
				[]tokend.LegacyUse{p[4], p[1], p[2], p[3], p[0]}},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				record(t, s.uses...)
				got, err := st.ListLegacyUses(ctx, tokend.LegacyUseFilter{AccountID: a.ID})
				must(t, err, "ListLegacyUses")
				wantPlaces(t, got, s.want)
			})
		}
	})

	t.Run("MissingTimes", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		key := mustToken(t, st, newLegacyKey(u.ID))
		never := newLegacyUse(key, a.ID, time.Time{})
		never.Route = "GET /never/"
		noFirst := newLegacyUse(key, a.ID, at(time.Hour))
		noFirst.FirstSeen = time.Time{}
		must(t, st.RecordLegacyUses(ctx, []tokend.LegacyUse{never, noFirst}), "RecordLegacyUses")

		got, err := st.ListLegacyUses(ctx, tokend.LegacyUseFilter{})
		must(t, err, "ListLegacyUses")
		want := noFirst
		want.FirstSeen = want.LastSeen
		wantPlaces(t, got, []tokend.LegacyUse{want})
		if len(got) == 1 {
			legacyUseDiff(got[0], &want).report(t, "a use without FirstSeen")
		}
	})

	t.Run("MissingReferences", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		key := mustToken(t, st, newLegacyKey(u.ID))
		tests := []struct {
			name   string
			change func(l *tokend.LegacyUse)
		}{
			{"token", func(l *tokend.LegacyUse) { l.TokenID = 999999 }},
			{"user", func(l *tokend.LegacyUse) { l.UserID = 999999 }},
			{"account", func(l *tokend.LegacyUse) { l.AccountID = 999999 }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				good := newLegacyUse(key, a.ID, at(time.Hour))
				good.Route = "GET /api/v2/" + unique() + "/"
				bad := newLegacyUse(key, a.ID, at(time.Hour))
				tt.change(&bad)
				err := st.RecordLegacyUses(ctx, []tokend.LegacyUse{good, bad})
				wantCode(t, err, tokend.ENotFound, "RecordLegacyUses")
				got, err := st.ListLegacyUses(ctx, tokend.LegacyUseFilter{})
				must(t, err, "ListLegacyUses")
				wantPlaces(t, got, nil)
			})
		}
	})
}

// newLegacyUse returns one use of key in accountID (0: none) by a fixed client, seen at last.
func newLegacyUse(key *tokend.Token, accountID tokend.AccountID, last time.Time) tokend.LegacyUse {
	return tokend.LegacyUse{TokenID: key.ID, UserID: key.UserID, AccountID: accountID, Method: "GET",
		Route: "GET /api/v2/accounts/{account_id}/", IP: "192.0.2.1", UserAgent: "dbt-cloud-cli/1.0",
		Count: 1, FirstSeen: last, LastSeen: last, LastStatus: 200}
}

// legacyPlace is what makes a legacy-key use a row of its own.
type legacyPlace struct {
	tokenID                      tokend.TokenID
	accountID                    tokend.AccountID
	method, route, ip, userAgent string
}

func (p legacyPlace) String() string {
	return fmt.Sprintf("{token %d, account %d, %q %q, %s, %q}", p.tokenID, p.accountID, p.method, p.route, p.ip, p.userAgent)
}

func placeOf(l *tokend.LegacyUse) legacyPlace {
	return legacyPlace{l.TokenID, l.AccountID, l.Method, l.Route, l.IP, l.UserAgent}
}

func places(uses []*tokend.LegacyUse) []legacyPlace {
	out := make([]legacyPlace, len(uses))
	for i, l := range uses {
		out[i] = placeOf(l)
	}
	return out
}

// wantPlaces checks that got lists exactly the places of want, in order.
func wantPlaces(tb testing.TB, got []*tokend.LegacyUse, want []tokend.LegacyUse) {
	tb.Helper()
	w := make([]legacyPlace, len(want))
	for i := range want {
		w[i] = placeOf(&want[i])
	}
	if g := places(got); !equalSlices(g, w) {
		tb.Errorf("ListLegacyUses: got places %v, want %v", g, w)
	}
}

// mustLegacyUse returns the one recorded row of place p.
func mustLegacyUse(tb testing.TB, st tokend.Store, p legacyPlace) *tokend.LegacyUse {
	tb.Helper()
	all, err := st.ListLegacyUses(tb.Context(), tokend.LegacyUseFilter{})
	must(tb, err, "ListLegacyUses")
	var found *tokend.LegacyUse
	for _, l := range all {
		if placeOf(l) == p {
			if found != nil {
				tb.Fatalf("ListLegacyUses: got place %v twice, want it once", p)
			}
			found = l
		}
	}
	if found == nil {
		tb.Fatalf("ListLegacyUses: got places %v, want %v among them", places(all), p)
	}
	return found
}

func legacyUseDiff(got, want *tokend.LegacyUse) diffs {
	var d diffs
	eq(&d, "TokenID", got.TokenID, want.TokenID)
	eq(&d, "UserID", got.UserID, want.UserID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eq(&d, "Method", got.Method, want.Method)
	eq(&d, "Route", got.Route, want.Route)
	eq(&d, "IP", got.IP, want.IP)
	eq(&d, "UserAgent", got.UserAgent, want.UserAgent)
	eq(&d, "Count", got.Count, want.Count)
	eqTime(&d, "FirstSeen", got.FirstSeen, want.FirstSeen)
	eqTime(&d, "LastSeen", got.LastSeen, want.LastSeen)
	eq(&d, "LastStatus", got.LastStatus, want.LastStatus)
	return d
}
