-- +goose Up
ALTER TABLE accounts ADD COLUMN ip_restrictions_enabled INTEGER NOT NULL DEFAULT 0;

-- An account's IP restriction rules; cidrs is a JSON array of canonical prefixes.
CREATE TABLE ip_restriction_rules (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id          INTEGER NOT NULL REFERENCES accounts (id),
    name                TEXT    NOT NULL,
    description         TEXT    NOT NULL DEFAULT '',
    type                INTEGER NOT NULL,
    cidrs               TEXT    NOT NULL DEFAULT '[]',
    state               INTEGER NOT NULL DEFAULT 1,
    created_by          INTEGER,
    created_by_token    TEXT    NOT NULL DEFAULT '',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX ip_restriction_rules_account ON ip_restriction_rules (account_id, id);

-- +goose Down
DROP TABLE ip_restriction_rules;
ALTER TABLE accounts DROP COLUMN ip_restrictions_enabled;
