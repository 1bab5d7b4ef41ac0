-- +goose Up
-- Trust policies: which OIDC issuer's ID tokens, with which audience and claims, an account
-- exchanges for short-lived service tokens, and the grants those tokens get. jwks is an optional
-- pinned key set.
CREATE TABLE trust_policies (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id),
    name        TEXT        NOT NULL,
    issuer      TEXT        NOT NULL,
    audience    TEXT        NOT NULL,
    claims      JSONB       NOT NULL DEFAULT '{}',
    grants      JSONB       NOT NULL DEFAULT '[]',
    ttl_seconds INTEGER     NOT NULL,
    jwks        TEXT        NOT NULL DEFAULT '',
    state       INTEGER     NOT NULL DEFAULT 1,
    created_by  BIGINT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX trust_policies_account ON trust_policies (account_id, issuer, id);

-- A federated service token names the policy that minted it; deleting the policy revokes it.
ALTER TABLE tokens ADD COLUMN trust_policy_id BIGINT REFERENCES trust_policies (id);
CREATE INDEX tokens_trust_policy ON tokens (trust_policy_id) WHERE trust_policy_id IS NOT NULL;

-- Exchanged ID tokens, by the SHA-256 of issuer and jti, until they expire: each is accepted
-- once, whichever node sees it.
CREATE TABLE subject_token_uses (
    key        BYTEA       PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX subject_token_uses_expires ON subject_token_uses (expires_at);

-- Device authorizations (RFC 8628). Only the SHA-256 of each code is kept.
CREATE TABLE device_authorizations (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_hash    BYTEA       NOT NULL UNIQUE,
    user_code_hash BYTEA       NOT NULL UNIQUE,
    client_id      TEXT        NOT NULL,
    device_name    TEXT        NOT NULL DEFAULT '',
    ip             TEXT        NOT NULL DEFAULT '',
    user_agent     TEXT        NOT NULL DEFAULT '',
    state          TEXT        NOT NULL,
    user_id        BIGINT      REFERENCES users (id),
    account_id     BIGINT      REFERENCES accounts (id),
    token_id       BIGINT      REFERENCES tokens (id),
    interval_s     INTEGER     NOT NULL,
    last_polled_at TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX device_authorizations_expires ON device_authorizations (expires_at);

-- +goose Down
DROP TABLE device_authorizations;
DROP TABLE subject_token_uses;
ALTER TABLE tokens DROP COLUMN trust_policy_id;
DROP TABLE trust_policies;
