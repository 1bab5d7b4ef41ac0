-- +goose Up
-- A user's association with development credentials for one project. credentials_id refers to
-- a warehouse credentials object that tokend does not keep, so it has no foreign key.

CREATE TABLE user_credentials (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     BIGINT      NOT NULL REFERENCES accounts (id),
    user_id        BIGINT      NOT NULL REFERENCES users (id),
    project_id     BIGINT      NOT NULL REFERENCES projects (id),
    credentials_id BIGINT      NOT NULL,
    state          INTEGER     NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
-- Every read is one user's rows, usually in one account, by id.
CREATE INDEX user_credentials_user ON user_credentials (user_id, account_id, id);

-- +goose Down
DROP TABLE user_credentials;
