-- +goose Up
-- A user's association with development credentials for one project. credentials_id refers to
-- a warehouse credentials object that tokend does not keep, so it has no foreign key.

CREATE TABLE user_credentials (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    user_id        INTEGER NOT NULL REFERENCES users (id),
    project_id     INTEGER NOT NULL REFERENCES projects (id),
    credentials_id INTEGER NOT NULL,
    state          INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
-- Every read is one user's rows, usually in one account, by id.
CREATE INDEX user_credentials_user ON user_credentials (user_id, account_id, id);

-- +goose Down
DROP TABLE user_credentials;
