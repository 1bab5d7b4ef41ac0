-- +goose Up
-- Times are TIMESTAMPTZ (microseconds, UTC on read); NULL means "never" / "none".

CREATE TABLE accounts (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               TEXT        NOT NULL,
    plan               TEXT        NOT NULL,
    state              INTEGER     NOT NULL DEFAULT 1,
    pat_max_lifetime_s BIGINT      NOT NULL DEFAULT 0,
    legacy_keys_until  TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT        NOT NULL,
    first_name    TEXT        NOT NULL DEFAULT '',
    last_name     TEXT        NOT NULL DEFAULT '',
    password_hash TEXT        NOT NULL DEFAULT '',
    state         INTEGER     NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE memberships (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id   BIGINT      NOT NULL REFERENCES accounts (id),
    user_id      BIGINT      NOT NULL REFERENCES users (id),
    license_type TEXT        NOT NULL,
    state        INTEGER     NOT NULL DEFAULT 1,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (account_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE projects (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  BIGINT      NOT NULL REFERENCES accounts (id),
    name        TEXT        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    state       INTEGER     NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX projects_account ON projects (account_id, id);

CREATE TABLE account_groups (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         BIGINT      NOT NULL REFERENCES accounts (id),
    name               TEXT        NOT NULL,
    assign_by_default  BOOLEAN     NOT NULL DEFAULT false,
    sso_mapping_groups TEXT[]      NOT NULL DEFAULT '{}',
    state              INTEGER     NOT NULL DEFAULT 1,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_groups_account ON account_groups (account_id, id);

CREATE TABLE group_permissions (
    id                              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id                      BIGINT  NOT NULL REFERENCES accounts (id),
    group_id                        BIGINT  NOT NULL REFERENCES account_groups (id) ON DELETE CASCADE,
    permission_set                  TEXT    NOT NULL,
    all_projects                    BOOLEAN NOT NULL,
    project_id                      BIGINT,
    writable_environment_categories TEXT[]  NOT NULL DEFAULT '{}'
);
CREATE INDEX group_permissions_group ON group_permissions (group_id, id);

CREATE TABLE group_members (
    group_id   BIGINT NOT NULL REFERENCES account_groups (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (account_id, user_id);

CREATE TABLE tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT        NOT NULL,
    account_id    BIGINT REFERENCES accounts (id),
    user_id       BIGINT REFERENCES users (id),
    created_by    BIGINT,
    uid           TEXT        NOT NULL UNIQUE,
    name          TEXT        NOT NULL DEFAULT '',
    -- NULL for tokens with only a slow hash; NULLs do not collide under UNIQUE.
    hash          BYTEA UNIQUE,
    slow_hash     TEXT        NOT NULL DEFAULT '',
    legacy_format BOOLEAN     NOT NULL DEFAULT false,
    state         INTEGER     NOT NULL DEFAULT 1,
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    last_used_ip  TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX tokens_account ON tokens (account_id, kind, id);
CREATE INDEX tokens_user ON tokens (user_id, kind, id);

CREATE TABLE token_permissions (
    id                              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id                        BIGINT  NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    permission_set                  TEXT    NOT NULL,
    all_projects                    BOOLEAN NOT NULL,
    project_id                      BIGINT,
    writable_environment_categories TEXT[]  NOT NULL DEFAULT '{}'
);
CREATE INDEX token_permissions_token ON token_permissions (token_id, id);

CREATE TABLE audit_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    BIGINT,
    actor_user_id BIGINT,
    actor_token   TEXT        NOT NULL DEFAULT '',
    action        TEXT        NOT NULL,
    target_type   TEXT        NOT NULL DEFAULT '',
    target_id     BIGINT,
    detail        JSONB       NOT NULL DEFAULT '{}',
    ip            TEXT        NOT NULL DEFAULT '',
    user_agent    TEXT        NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE token_permissions;
DROP TABLE tokens;
DROP TABLE group_members;
DROP TABLE group_permissions;
DROP TABLE account_groups;
DROP TABLE projects;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE accounts;
