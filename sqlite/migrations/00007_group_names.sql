-- +goose Up
-- An account's active groups have distinct names whatever their case; the service checks it
-- first (to answer 400 naming the field), this closes the race between two creates.
CREATE UNIQUE INDEX account_groups_active_name ON account_groups (account_id, lower(name)) WHERE state = 1;

-- +goose Down
DROP INDEX account_groups_active_name;
