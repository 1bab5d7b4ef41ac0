package storetest

import (
	"bytes"
	"testing"

	"tokend"
)

// testTokenTags: a store comes with a tag key of its own, which never changes, and a seal of
// untagged tokens that, once set, stays set. Contract: whether a new store starts sealed is
// the store's to say (SQLite does, PostgreSQL does not); each store's own tests check it.
func testTokenTags(t *testing.T, open func(testing.TB) tokend.Store) {
	t.Run("KeyOfItsOwn", func(t *testing.T) {
		a, b := open(t), open(t)
		ta, err := a.TokenTags(t.Context())
		must(t, err, "TokenTags")
		if len(ta.Key) != 32 {
			t.Fatalf("len(Key): got %d, want 32", len(ta.Key))
		}
		if bytes.Equal(ta.Key, make([]byte, 32)) {
			t.Errorf("Key: got all zeros, want random bytes")
		}
		again, err := a.TokenTags(t.Context())
		must(t, err, "TokenTags again")
		if !bytes.Equal(again.Key, ta.Key) {
			t.Errorf("Key read again: got %x, want %x", again.Key, ta.Key)
		}
		tb, err := b.TokenTags(t.Context())
		must(t, err, "TokenTags of another store")
		if bytes.Equal(tb.Key, ta.Key) {
			t.Errorf("Key of another store: got the same %x, want a key of its own", tb.Key)
		}
	})
	t.Run("InATransaction", func(t *testing.T) {
		st := open(t)
		want, err := st.TokenTags(t.Context())
		must(t, err, "TokenTags")
		must(t, st.Tx(t.Context(), func(tx tokend.Store) error {
			got, err := tx.TokenTags(t.Context())
			if err == nil && !bytes.Equal(got.Key, want.Key) {
				t.Errorf("Key in a Tx: got %x, want %x", got.Key, want.Key)
			}
			return err
		}), "TokenTags in a Tx")
	})
	t.Run("Seal", func(t *testing.T) {
		st := open(t)
		before, err := st.TokenTags(t.Context())
		must(t, err, "TokenTags")
		for i := range 2 { // sealing a sealed store changes nothing
			must(t, st.SealUntaggedTokens(t.Context()), "SealUntaggedTokens")
			got, err := st.TokenTags(t.Context())
			must(t, err, "TokenTags after the seal")
			if !got.UntaggedSealed {
				t.Errorf("seal %d: UntaggedSealed: got false, want true", i+1)
			}
			if !bytes.Equal(got.Key, before.Key) {
				t.Errorf("seal %d: Key: got %x, want it unchanged (%x)", i+1, got.Key, before.Key)
			}
		}
	})
}
