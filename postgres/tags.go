package postgres

import (
	"context"

	"tokend"
)

func (s *Store) TokenTags(ctx context.Context) (tokend.TokenTags, error) {
	var t tokend.TokenTags
	err := s.q().QueryRow(ctx,
		`SELECT tag_key, untagged_sealed FROM token_tags WHERE id = 1`).Scan(&t.Key, &t.UntaggedSealed)
	return t, translateNotFound(err, "Token tag key")
}

func (s *Store) SealUntaggedTokens(ctx context.Context) error {
	tag, err := s.q().Exec(ctx, `UPDATE token_tags SET untagged_sealed = true WHERE id = 1`)
	return affected(tag, err, "Token tag key")
}
