-- +goose Up
-- Which capability each token was allowed, per UTC day and project, for the least-privilege
-- advice. day is days since the Unix epoch; capability is the permission table's name
-- ("projects:read"); project_id 0 means account-wide.
CREATE TABLE token_capability_uses (
    token_id   INTEGER NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    day        INTEGER NOT NULL,
    capability TEXT    NOT NULL,
    project_id INTEGER NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (token_id, day, capability, project_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE token_capability_uses;
