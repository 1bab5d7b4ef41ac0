package storetest

import (
	"testing"
	"time"

	"tokend"
)

// testSessions checks web-console sessions. Contract:
//   - a session is found by its hash only; a hash nobody holds is ENotFound;
//   - two sessions cannot share a hash (EConflict);
//   - AccountID zero reads back as zero; a missing user or account is ENotFound;
//   - TouchSession writes LastSeenAt only and SetSessionAccount AccountID only, so that one never
//     undoes the other; a missing session is ENotFound for both; a missing account is ENotFound;
//   - DeleteSession is idempotent;
//   - DeleteExpiredSessions deletes the sessions past either end (ExpiresAt at or before now,
//     LastSeenAt at or before idleSince), keeps the others, and counts what it deleted.
func testSessions(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		tests := []struct {
			name string
			s    *tokend.Session
		}{
			{"in an account", newSession(u.ID, a.ID)},
			{"no account", newSession(u.ID, 0)},
			{"long user agent", func() *tokend.Session {
				s := newSession(u.ID, a.ID)
				s.IP, s.UserAgent = "2001:db8::1", "Mozilla/5.0 (naïve ✓) "+unique()+unique()
				return s
			}()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				want := *tt.s
				must(t, st.CreateSession(ctx, tt.s), "CreateSession")
				if tt.s.ID <= 0 {
					t.Fatalf("CreateSession: got ID %d, want > 0", tt.s.ID)
				}
				want.ID = tt.s.ID
				got, err := st.SessionByHash(ctx, want.Hash)
				must(t, err, "SessionByHash")
				sessionDiff(got, &want).report(t, "SessionByHash")
			})
		}
	})

	t.Run("NotFoundAndConflict", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		u := mustUser(t, st)
		s := newSession(u.ID, a.ID)
		must(t, st.CreateSession(ctx, s), "CreateSession")

		_, err := st.SessionByHash(ctx, randomHash())
		wantCode(t, err, tokend.ENotFound, "SessionByHash(unknown hash)")
		dup := newSession(u.ID, a.ID)
		dup.Hash = s.Hash
		wantCode(t, st.CreateSession(ctx, dup), tokend.EConflict, "CreateSession(same hash)")
		wantCode(t, st.CreateSession(ctx, newSession(999999, a.ID)), tokend.ENotFound, "CreateSession(missing user)")
		wantCode(t, st.CreateSession(ctx, newSession(u.ID, 999999)), tokend.ENotFound, "CreateSession(missing account)")
		wantCode(t, st.TouchSession(ctx, 999999, at(time.Hour)), tokend.ENotFound, "TouchSession(missing)")
		wantCode(t, st.SetSessionAccount(ctx, 999999, a.ID), tokend.ENotFound, "SetSessionAccount(missing)")
		wantCode(t, st.SetSessionAccount(ctx, s.ID, 999999), tokend.ENotFound, "SetSessionAccount(missing account)")
	})

	t.Run("TouchAndSwitch", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		a := mustAccount(t, st)
		b := mustAccount(t, st)
		u := mustUser(t, st)
		s := newSession(u.ID, a.ID)
		must(t, st.CreateSession(ctx, s), "CreateSession")
		want := *s

		// Each step writes one column; the other keeps what the step before wrote.
		steps := []struct {
			name string
			do   func() error
			set  func(*tokend.Session)
		}{
			{"touch", func() error { return st.TouchSession(ctx, s.ID, at(time.Hour)) },
				func(w *tokend.Session) { w.LastSeenAt = at(time.Hour) }},
			{"switch account", func() error { return st.SetSessionAccount(ctx, s.ID, b.ID) },
				func(w *tokend.Session) { w.AccountID = b.ID }},
			{"touch again", func() error { return st.TouchSession(ctx, s.ID, at(2*time.Hour)) },
				func(w *tokend.Session) { w.LastSeenAt = at(2 * time.Hour) }},
			{"no account", func() error { return st.SetSessionAccount(ctx, s.ID, 0) },
				func(w *tokend.Session) { w.AccountID = 0 }},
		}
		for _, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				must(t, step.do(), step.name)
				step.set(&want)
				got, err := st.SessionByHash(ctx, s.Hash)
				must(t, err, "SessionByHash")
				sessionDiff(got, &want).report(t, "after "+step.name)
			})
		}
	})

	t.Run("Delete", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		u := mustUser(t, st)
		s := newSession(u.ID, 0)
		other := newSession(u.ID, 0)
		must(t, st.CreateSession(ctx, s), "CreateSession")
		must(t, st.CreateSession(ctx, other), "CreateSession")
		must(t, st.DeleteSession(ctx, s.ID), "DeleteSession")
		_, err := st.SessionByHash(ctx, s.Hash)
		wantCode(t, err, tokend.ENotFound, "SessionByHash(deleted)")
		must(t, st.DeleteSession(ctx, s.ID), "DeleteSession(again)")
		if _, err := st.SessionByHash(ctx, other.Hash); err != nil {
			t.Errorf("SessionByHash(the other session): got %v, want it kept", err)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		u := mustUser(t, st)
		now, idleSince := at(10*time.Hour), at(5*time.Hour)
		tests := []struct {
			name       string
			seen, ends time.Duration
			kept       bool
		}{
			{"live", 6 * time.Hour, 11 * time.Hour, true},
			{"absolute end reached", 9 * time.Hour, 10 * time.Hour, false},
			{"absolute end past", 9 * time.Hour, time.Hour, false},
			{"idle at the limit", 5 * time.Hour, 20 * time.Hour, false},
			{"idle past the limit", time.Hour, 20 * time.Hour, false},
		}
		made := make([]*tokend.Session, len(tests))
		for i, tt := range tests {
			s := newSession(u.ID, 0)
			s.LastSeenAt, s.ExpiresAt = at(tt.seen), at(tt.ends)
			must(t, st.CreateSession(ctx, s), "CreateSession")
			made[i] = s
		}
		n, err := st.DeleteExpiredSessions(ctx, now, idleSince)
		must(t, err, "DeleteExpiredSessions")
		if n != 4 {
			t.Errorf("DeleteExpiredSessions: got %d deleted, want 4", n)
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := st.SessionByHash(ctx, made[i].Hash)
				if tt.kept {
					must(t, err, "SessionByHash")
				} else {
					wantCode(t, err, tokend.ENotFound, "SessionByHash")
				}
			})
		}
	})
}

// newSession returns a session of user (in account, zero for none) with a random hash and
// secret, not yet stored.
func newSession(userID tokend.UserID, accountID tokend.AccountID) *tokend.Session {
	return &tokend.Session{Hash: randomHash(), UserID: userID, AccountID: accountID, CSRFSecret: randomHash(),
		IP: "192.0.2.7", UserAgent: "test agent", CreatedAt: base, LastSeenAt: at(time.Second),
		ExpiresAt: at(7 * 24 * time.Hour)}
}

func sessionDiff(got, want *tokend.Session) diffs {
	var d diffs
	eq(&d, "ID", got.ID, want.ID)
	eqBytes(&d, "Hash", got.Hash, want.Hash)
	eq(&d, "UserID", got.UserID, want.UserID)
	eq(&d, "AccountID", got.AccountID, want.AccountID)
	eqBytes(&d, "CSRFSecret", got.CSRFSecret, want.CSRFSecret)
	eq(&d, "IP", got.IP, want.IP)
	eq(&d, "UserAgent", got.UserAgent, want.UserAgent)
	eqTime(&d, "CreatedAt", got.CreatedAt, want.CreatedAt)
	eqTime(&d, "LastSeenAt", got.LastSeenAt, want.LastSeenAt)
	eqTime(&d, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	return d
}
