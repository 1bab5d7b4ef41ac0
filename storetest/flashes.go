package storetest

import (
	"bytes"
	"testing"
	"time"

	"tokend"
)

// testSessionFlashes checks a session's one-time messages. Contract:
//   - TakeSessionFlash returns what PutSessionFlash stored, once; the second take is ENotFound;
//   - another session's key, a key nobody put, and a message put before since are ENotFound
//     (and the old one is gone after that take);
//   - a session's messages go with it.
func testSessionFlashes(t *testing.T, open func(testing.TB) tokend.Store) {
	st := open(t)
	ctx := t.Context()
	a := mustAccount(t, st)
	u := mustUser(t, st)
	mine, theirs := newSession(u.ID, a.ID), newSession(u.ID, a.ID)
	must(t, st.CreateSession(ctx, mine), "CreateSession")
	must(t, st.CreateSession(ctx, theirs), "CreateSession")
	sealed := []byte("sealed \x00 bytes")
	must(t, st.PutSessionFlash(ctx, mine.ID, "fresh", sealed, at(time.Minute)), "PutSessionFlash")
	must(t, st.PutSessionFlash(ctx, mine.ID, "old", sealed, at(0)), "PutSessionFlash")
	must(t, st.PutSessionFlash(ctx, mine.ID, "gone with the session", sealed, at(time.Minute)), "PutSessionFlash")
	must(t, st.PutSessionFlash(ctx, theirs.ID, "theirs", sealed, at(time.Minute)), "PutSessionFlash")

	since := at(time.Second)
	tests := []struct {
		name    string
		session tokend.SessionID
		key     string
		want    []byte // nil: ENotFound
	}{
		{"another session's key", mine.ID, "theirs", nil},
		{"the other session cannot take mine", theirs.ID, "fresh", nil},
		{"first take", mine.ID, "fresh", sealed},
		{"second take", mine.ID, "fresh", nil},
		{"a key nobody put", mine.ID, "never", nil},
		{"put before since", mine.ID, "old", nil},
		{"put before since, again", mine.ID, "old", nil},
		{"their own", theirs.ID, "theirs", sealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.TakeSessionFlash(ctx, tt.session, tt.key, since)
			if tt.want == nil {
				if tokend.ErrorCode(err) != tokend.ENotFound {
					t.Fatalf("TakeSessionFlash: got %q, %v; want ENotFound", got, err)
				}
				return
			}
			must(t, err, "TakeSessionFlash")
			if !bytes.Equal(got, tt.want) {
				t.Errorf("TakeSessionFlash: got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("the session ended", func(t *testing.T) {
		must(t, st.DeleteSession(ctx, mine.ID), "DeleteSession")
		if _, err := st.TakeSessionFlash(ctx, mine.ID, "gone with the session", since); tokend.ErrorCode(err) != tokend.ENotFound {
			t.Fatalf("TakeSessionFlash after DeleteSession: got %v, want ENotFound", err)
		}
	})
}
