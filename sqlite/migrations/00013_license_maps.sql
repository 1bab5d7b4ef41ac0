-- +goose Up
-- License maps: which license a user signing in through SSO gets, by the SSO groups they are
-- in. sso_groups is a JSON array of group names.
CREATE TABLE license_maps (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    license_type TEXT    NOT NULL,
    sso_groups   TEXT    NOT NULL DEFAULT '[]',
    state        INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX license_maps_account ON license_maps (account_id, id);

-- +goose Down
DROP TABLE license_maps;
