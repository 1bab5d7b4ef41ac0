-- +goose Up
-- One-time password reset links an account admin issues (there is no mail server): hash is the
-- SHA-256 of the link's secret, which is shown once and never stored. A link is used at most
-- once (used_at) and refused after expires_at.
CREATE TABLE password_resets (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash       BYTEA       NOT NULL UNIQUE,
    user_id    BIGINT      NOT NULL REFERENCES users (id),
    account_id BIGINT      NOT NULL REFERENCES accounts (id),
    created_by BIGINT      REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- +goose Down
DROP INDEX console_sessions_user;
DROP TABLE password_resets;
