-- +goose Up
-- Where each legacy user API key is still used: one row per place (key, account, method, route,
-- client IP, user agent), with the number of uses and when they were first and last seen.
-- account_id is NULL for a route not bound to an account.

CREATE TABLE legacy_key_uses (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id    BIGINT      NOT NULL REFERENCES tokens (id),
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    account_id  BIGINT      REFERENCES accounts (id),
    method      TEXT        NOT NULL,
    route       TEXT        NOT NULL,
    ip          TEXT        NOT NULL,
    user_agent  TEXT        NOT NULL,
    count       BIGINT      NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    last_status INTEGER     NOT NULL,
    -- The place is unique, "no account" (NULL) included: NULLS NOT DISTINCT (PostgreSQL 15)
    -- makes two NULL account_ids the same place, and ON CONFLICT infers this constraint.
    CONSTRAINT legacy_key_uses_place
        UNIQUE NULLS NOT DISTINCT (token_id, account_id, method, route, ip, user_agent)
);
-- The report lists one account's places, most recently seen first.
CREATE INDEX legacy_key_uses_account ON legacy_key_uses (account_id, last_seen DESC, id);

-- +goose Down
DROP TABLE legacy_key_uses;
