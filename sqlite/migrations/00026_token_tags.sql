-- +goose Up
-- The cluster's key for the tags of the tokens it mints (secret.TagKey), made once here and
-- never changed; it is no authentication secret. untagged_sealed says that no node mints
-- untagged tokens any more, so that a server may refuse an unknown untagged token without
-- waiting for the change feed. An SQLite database is sealed by this migration itself: a
-- binary that mints untagged tokens refuses a database migrated past what it knows, and the
-- upgrade stops the old binary first (docs/operations.md).
CREATE TABLE token_tags (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tag_key BLOB NOT NULL CHECK (length(tag_key) = 32),
    untagged_sealed INTEGER NOT NULL CHECK (untagged_sealed IN (0, 1))
);
INSERT INTO token_tags (id, tag_key, untagged_sealed) VALUES (1, randomblob(32), 1);

-- +goose Down
DROP TABLE token_tags;
