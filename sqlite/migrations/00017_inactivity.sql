-- +goose Up
-- An account may disable tokens unused for inactivity_days (0: off; else 30 to 365). A disabled
-- token keeps its state (active) but is refused from disabled_at until an admin enables it
-- again; enabled_at then restarts its inactivity clock.
ALTER TABLE accounts ADD COLUMN inactivity_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN disabled_at INTEGER;
ALTER TABLE tokens ADD COLUMN enabled_at INTEGER;

-- +goose Down
ALTER TABLE tokens DROP COLUMN enabled_at;
ALTER TABLE tokens DROP COLUMN disabled_at;
ALTER TABLE accounts DROP COLUMN inactivity_days;
