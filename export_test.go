package tokend

import "context"

// SameRights reports whether a and b hold one shared copy of their rights, not merely equal
// ones (see rightsPool).
func SameRights(a, b *Principal) bool { return a.rights == b.rights }

// SealUntaggedTokens seals untagged minting as `tokend migrate --seal-untagged-tokens` does
// (in the store), and has this node trust its filter for untagged tokens at once; other nodes
// learn it within their feed poll interval.
func (s *Service) SealUntaggedTokens(ctx context.Context) error {
	if err := s.store.SealUntaggedTokens(ctx); err != nil {
		return err
	}
	s.untaggedSealed.Store(true)
	return nil
}
