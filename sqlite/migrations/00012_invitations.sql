-- +goose Up
-- Invitations to join an account, for people who already have a user elsewhere (or none yet).
-- email is normalised (lower case). group_ids is a JSON array of the groups joined on
-- accepting. state: 1 pending, 2 redeemed (an expired invitation stays 1; expires_at says so).
CREATE TABLE invitations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    email        TEXT    NOT NULL,
    license_type TEXT    NOT NULL,
    group_ids    TEXT    NOT NULL DEFAULT '[]',
    state        INTEGER NOT NULL,
    invited_by   INTEGER REFERENCES users (id),
    redeemed_by  INTEGER REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    redeemed_at  INTEGER
);
CREATE INDEX invitations_account ON invitations (account_id, id);
CREATE INDEX invitations_email ON invitations (email, id);

-- +goose Down
DROP TABLE invitations;
