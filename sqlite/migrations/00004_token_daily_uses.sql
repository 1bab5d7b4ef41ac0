-- +goose Up
-- Requests per token per UTC day, for activity charts. day is days since the Unix epoch.
CREATE TABLE token_daily_uses (
    token_id INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    day      INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (token_id, day)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE token_daily_uses;
