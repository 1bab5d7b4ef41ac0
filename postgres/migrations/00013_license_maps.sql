-- +goose Up
-- License maps: which license a user signing in through SSO gets, by the SSO groups they are
-- in.
CREATE TABLE license_maps (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   BIGINT      NOT NULL REFERENCES accounts (id),
    license_type TEXT        NOT NULL,
    sso_groups   TEXT[]      NOT NULL DEFAULT '{}',
    state        INTEGER     NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_maps_account ON license_maps (account_id, id);

-- +goose Down
DROP TABLE license_maps;
