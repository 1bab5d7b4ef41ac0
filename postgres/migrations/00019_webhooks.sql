-- +goose Up
-- Webhook endpoints of an account: where token events are sent, signed with secret (Standard
-- Webhooks). The secret is kept as given, not hashed: signing needs it (docs/operations.md).
-- events is a list of event types. A rotated-out secret keeps signing until
-- previous_until.
CREATE TABLE webhook_endpoints (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      BIGINT  NOT NULL REFERENCES accounts (id),
    url             TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    events          TEXT[]  NOT NULL DEFAULT '{}',
    secret          TEXT    NOT NULL,
    previous_secret TEXT    NOT NULL DEFAULT '',
    previous_until  TIMESTAMPTZ,
    disabled        BOOLEAN NOT NULL DEFAULT false,
    created_by      BIGINT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id, id);

-- The outbox: one message per event and endpoint, written in the event's transaction. uid is
-- the webhook-id header, the same for every attempt. A worker claims a due message until
-- claimed_until under lease; state is pending, delivered or failed.
CREATE TABLE webhook_messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uid             TEXT    NOT NULL UNIQUE,
    account_id      BIGINT  NOT NULL,
    endpoint_id     BIGINT  NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    payload         BYTEA   NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    retry_until     TIMESTAMPTZ NOT NULL,
    claimed_until   TIMESTAMPTZ,
    lease           BIGINT  NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, id);
CREATE INDEX webhook_messages_created ON webhook_messages (created_at) WHERE state <> 'pending';

-- The delivery log: every attempt, its answer and how long it took.
CREATE TABLE webhook_attempts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  BIGINT  NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    endpoint_id BIGINT  NOT NULL,
    account_id  BIGINT  NOT NULL,
    attempt     INTEGER NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    duration_us BIGINT  NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);

-- Notices sent about a token (token.expiring at a threshold in days, token.expired with 0):
-- the key makes each one once across nodes and restarts.
CREATE TABLE token_notices (
    token_id  BIGINT  NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    event     TEXT    NOT NULL,
    threshold INTEGER NOT NULL,
    sent_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (token_id, event, threshold)
);
CREATE INDEX tokens_expires ON tokens (expires_at) WHERE expires_at IS NOT NULL;

-- Addresses each token was used from: a new one is a token.new_ip. Seeded with each token's
-- last address, so that tokens in use do not all report their usual address as new.
CREATE TABLE token_addresses (
    token_id   BIGINT  NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    ip         TEXT    NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (token_id, ip)
);
INSERT INTO token_addresses (token_id, ip, first_seen)
    SELECT id, last_used_ip, coalesce(last_used_at, created_at) FROM tokens WHERE last_used_ip <> '';

-- +goose Down
DROP TABLE token_addresses;
DROP INDEX tokens_expires;
DROP TABLE token_notices;
DROP TABLE webhook_attempts;
DROP TABLE webhook_messages;
DROP TABLE webhook_endpoints;
