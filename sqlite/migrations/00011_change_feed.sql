-- +goose Up
-- The change feed: what each committed change made stale, read past the last entry applied.
-- Numbers come from the one row of change_feed_head, updated in the change's own
-- transaction, so they are consecutive, in commit order, and never reused after pruning.
CREATE TABLE change_feed_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO change_feed_head (id, seq) VALUES (1, 0);

-- all_tokens, token_id, user_id, account_id: a tokend.Invalidation (0 as NULL).
CREATE TABLE change_feed (
    seq        INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    all_tokens INTEGER NOT NULL DEFAULT 0,
    token_id   INTEGER,
    user_id    INTEGER,
    account_id INTEGER
);
-- Pruning deletes by age.
CREATE INDEX change_feed_created_at ON change_feed (created_at);

-- +goose Down
DROP TABLE change_feed;
DROP TABLE change_feed_head;
