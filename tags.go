package tokend

import (
	"context"

	"tokend/secret"
)

// A filter miss (filter.go) is trusted at once only for a token that no other node can have
// minted an instant ago; any other waits for a read of the change feed. The string tells
// which it is:
//
//   - a tagged token whose tag this cluster's key made was minted here: it waits;
//   - a tagged token whose tag the key did not make was not minted by this cluster (it is
//     forged, or from another installation): its miss is trusted;
//   - an untagged token (minted before tags, or by an old node during a rolling upgrade)
//     waits until the store says that untagged minting is sealed: then no node mints them,
//     and a miss is trusted.
//
// The key is not an authentication secret: the stored hash authenticates a token, and the
// filter holds every stored token, so a token that exists is found whatever its tag. Knowing
// the key lets someone make unknown tokens that wait again, as every miss did before tags;
// a node without a key (the store has none, or it was not read yet) makes every miss wait.

// TokenTags is what the store keeps of the tags of tokens.
type TokenTags struct {
	// Key is the cluster's tag key, 32 random bytes made by the store's migration; it never
	// changes.
	Key []byte
	// UntaggedSealed says that no node mints untagged tokens any more. An SQLite database is
	// sealed by the migration that made the key; PostgreSQL by `tokend migrate
	// --seal-untagged-tokens`, once no node of an older version runs.
	UntaggedSealed bool
}

// loadTags reads the tag key and the seal from st (the store, or a change's transaction). The
// key is kept from its first read on; the seal only ever goes from false to true.
func (s *Service) loadTags(ctx context.Context, st Store) (*secret.TagKey, error) {
	t, err := st.TokenTags(ctx)
	if err != nil {
		return nil, err
	}
	if t.UntaggedSealed {
		s.untaggedSealed.Store(true)
	}
	if k := s.tagKey.Load(); k != nil {
		return k, nil
	}
	k, err := secret.NewTagKey(t.Key)
	if err != nil {
		return nil, err
	}
	s.tagKey.CompareAndSwap(nil, k)
	return s.tagKey.Load(), nil
}

// refreshTags reads the key until it has it, and the seal until it is set: at start, then on
// every poll of the feed (one row by primary key, stopped once both are known), so that
// nodes learn of a seal within FeedPollInterval without a feed entry that would drop their
// caches.
func (s *Service) refreshTags(ctx context.Context) {
	if s.tagKey.Load() != nil && s.untaggedSealed.Load() {
		return
	}
	if _, err := s.loadTags(ctx, s.store); err != nil && ctx.Err() == nil && s.tagsWarned.CompareAndSwap(false, true) {
		// Once: a node without a key works as before tags.
		s.log.Warn("read the token tag key; unknown tokens wait for the change feed", "err", err)
	}
}

// mintKey is the key issue tags a new token with; the first time it is read in the change's
// transaction st. Without a key in the store the token is untagged: it still works, and its
// misses wait as every untagged token's did before the seal.
func (s *Service) mintKey(ctx context.Context, st Store) (*secret.TagKey, error) {
	if k := s.tagKey.Load(); k != nil {
		return k, nil
	}
	k, err := s.loadTags(ctx, st)
	if isNotFound(err) {
		if s.tagsWarned.CompareAndSwap(false, true) {
			s.log.Warn("the store holds no token tag key; minting untagged tokens")
		}
		return nil, nil
	}
	return k, err
}

// mustWait reports whether a filter miss for raw must wait for a read of the feed: whether
// another node may have minted it an instant ago (see the rule above).
func (s *Service) mustWait(raw string, tagged bool) bool {
	if tagged {
		k := s.tagKey.Load()
		return k == nil || k.Valid(raw)
	}
	return !s.untaggedSealed.Load()
}
