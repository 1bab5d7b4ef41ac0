-- +goose Up
ALTER TABLE accounts ADD COLUMN ip_restrictions_enabled BOOLEAN NOT NULL DEFAULT false;

-- An account's IP restriction rules.
CREATE TABLE ip_restriction_rules (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       BIGINT      NOT NULL REFERENCES accounts (id),
    name             TEXT        NOT NULL,
    description      TEXT        NOT NULL DEFAULT '',
    type             INTEGER     NOT NULL,
    cidrs            TEXT[]      NOT NULL DEFAULT '{}',
    state            INTEGER     NOT NULL DEFAULT 1,
    created_by       BIGINT,
    created_by_token TEXT        NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX ip_restriction_rules_account ON ip_restriction_rules (account_id, id);

-- +goose Down
DROP TABLE ip_restriction_rules;
ALTER TABLE accounts DROP COLUMN ip_restrictions_enabled;
