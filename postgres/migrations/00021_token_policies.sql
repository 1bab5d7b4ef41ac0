-- +goose Up
-- Two account policies of rotation: a reuse of a rotated-out token revokes its whole chain,
-- and the overlap of a rotation starts at the new token's first use.
ALTER TABLE accounts ADD COLUMN reuse_revokes_chain BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE accounts ADD COLUMN overlap_from_first_use BOOLEAN NOT NULL DEFAULT false;
-- rotated_from links a token to the one it replaced in a rotation (NULL: not a rotation's),
-- so that a chain can be walked both ways. first_use_overlap (seconds) is set on the new token
-- while the overlap of the one it replaced waits for its first use; first_used_at is written by
-- the batched usage flush, never by a request.
ALTER TABLE tokens ADD COLUMN rotated_from BIGINT REFERENCES tokens (id);
ALTER TABLE tokens ADD COLUMN first_use_overlap BIGINT;
ALTER TABLE tokens ADD COLUMN first_used_at TIMESTAMPTZ;
CREATE INDEX tokens_rotated_from ON tokens (rotated_from) WHERE rotated_from IS NOT NULL;
CREATE INDEX tokens_first_use_pending ON tokens (id) WHERE first_use_overlap IS NOT NULL;

-- +goose Down
DROP INDEX tokens_first_use_pending;
DROP INDEX tokens_rotated_from;
ALTER TABLE tokens DROP COLUMN first_used_at;
ALTER TABLE tokens DROP COLUMN first_use_overlap;
ALTER TABLE tokens DROP COLUMN rotated_from;
ALTER TABLE accounts DROP COLUMN overlap_from_first_use;
ALTER TABLE accounts DROP COLUMN reuse_revokes_chain;
