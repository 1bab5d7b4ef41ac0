-- +goose Up
-- Where each legacy user API key is still used: one row per place (key, account, method, route,
-- client IP, user agent), with the number of uses and when they were first and last seen.
-- account_id is NULL for a route not bound to an account.

CREATE TABLE legacy_key_uses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id    INTEGER NOT NULL REFERENCES tokens (id),
    user_id     INTEGER NOT NULL REFERENCES users (id),
    account_id  INTEGER REFERENCES accounts (id),
    method      TEXT    NOT NULL,
    route       TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    user_agent  TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    last_status INTEGER NOT NULL
);
-- The place is unique. SQLite treats NULLs as distinct in a unique index, so the index is on
-- coalesce(account_id, 0): ids start at 1, so 0 stands for "no account" without storing 0, which
-- the foreign key would refuse. Upserts name the same expression in their conflict target.
CREATE UNIQUE INDEX legacy_key_uses_place
    ON legacy_key_uses (token_id, coalesce(account_id, 0), method, route, ip, user_agent);
-- The report lists one account's places, most recently seen first.
CREATE INDEX legacy_key_uses_account ON legacy_key_uses (account_id, last_seen DESC, id);

-- +goose Down
DROP TABLE legacy_key_uses;
