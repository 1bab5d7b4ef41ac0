-- +goose Up
-- One-time messages of a console session: a new token's secret travels from the POST that
-- made it to the one page that shows it (post, redirect, get). sealed is encrypted with a key
-- derived from the session's cookie, which the database never holds; a row is deleted when it
-- is read, and with its session.
CREATE TABLE session_flashes (
    session_id BIGINT      NOT NULL REFERENCES console_sessions (id) ON DELETE CASCADE,
    key        TEXT        NOT NULL,
    sealed     BYTEA       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, key)
);

-- +goose Down
DROP TABLE session_flashes;
