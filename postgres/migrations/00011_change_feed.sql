-- +goose Up
-- The change feed: what each committed change made stale, read by every node past the last
-- entry it applied. Numbers come from the one row of change_feed_head, updated in the
-- change's own transaction: a writer waits for the previous one to commit, so numbers are
-- consecutive and become visible in order (a sequence would let 11 commit before 10, and a
-- reader past 11 would never see 10). A rolled-back change gives its number back.
CREATE TABLE change_feed_head (
    id  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq BIGINT  NOT NULL
);
INSERT INTO change_feed_head (id, seq) VALUES (TRUE, 0);

-- all_tokens, token_id, user_id, account_id: a tokend.Invalidation (0 as NULL).
CREATE TABLE change_feed (
    seq        BIGINT      PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    all_tokens BOOLEAN     NOT NULL DEFAULT FALSE,
    token_id   BIGINT,
    user_id    BIGINT,
    account_id BIGINT
);
-- Pruning deletes by age.
CREATE INDEX change_feed_created_at ON change_feed (created_at);

-- +goose Down
DROP TABLE change_feed;
DROP TABLE change_feed_head;
