package sqlite

import (
	"context"

	"tokend"
)

func (s *Store) TokenTags(ctx context.Context) (tokend.TokenTags, error) {
	var t tokend.TokenTags
	err := s.reader().QueryRowContext(ctx,
		`SELECT tag_key, untagged_sealed FROM token_tags WHERE id = 1`).Scan(&t.Key, &t.UntaggedSealed)
	return t, translateNotFound(err, "Token tag key")
}

func (s *Store) SealUntaggedTokens(ctx context.Context) error {
	res, err := s.writer().ExecContext(ctx, `UPDATE token_tags SET untagged_sealed = 1 WHERE id = 1`)
	return affected(res, err, "Token tag key")
}
