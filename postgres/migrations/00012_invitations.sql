-- +goose Up
-- Invitations to join an account, for people who already have a user elsewhere (or none yet).
-- email is normalised (lower case). group_ids are the groups joined on accepting. state:
-- 1 pending, 2 redeemed (an expired invitation stays 1; expires_at says so).
CREATE TABLE invitations (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   BIGINT      NOT NULL REFERENCES accounts (id),
    email        TEXT        NOT NULL,
    license_type TEXT        NOT NULL,
    group_ids    BIGINT[]    NOT NULL DEFAULT '{}',
    state        SMALLINT    NOT NULL,
    invited_by   BIGINT      REFERENCES users (id),
    redeemed_by  BIGINT      REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    redeemed_at  TIMESTAMPTZ
);
CREATE INDEX invitations_account ON invitations (account_id, id);
CREATE INDEX invitations_email ON invitations (email, id);

-- +goose Down
DROP TABLE invitations;
