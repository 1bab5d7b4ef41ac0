-- +goose Up
-- Which capability each token was allowed, per UTC day and project, for the least-privilege
-- advice. capability is the permission table's name ("projects:read"); project_id 0 means
-- account-wide.
CREATE TABLE token_capability_uses (
    token_id   BIGINT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    day        DATE   NOT NULL,
    capability TEXT   NOT NULL,
    project_id BIGINT NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (token_id, day, capability, project_id)
);

-- +goose Down
DROP TABLE token_capability_uses;
