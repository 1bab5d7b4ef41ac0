-- +goose Up
-- Web-console sessions. The session id lives only in the browser's cookie; hash is its SHA-256.
-- A session ends at expires_at (absolute) or after a stretch without requests since last_seen_at
-- (the service applies the idle timeout). account_id is the account chosen with the account
-- switcher, NULL when the user had none.
CREATE TABLE console_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    hash         BLOB    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    account_id   INTEGER REFERENCES accounts (id),
    csrf_secret  BLOB    NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
-- The sweep deletes by either end.
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at);

-- +goose Down
DROP TABLE console_sessions;
