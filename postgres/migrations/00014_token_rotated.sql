-- +goose Up
-- When a newer token replaced this one in a rotation (it may still work through the overlap);
-- NULL while it is the newest of its chain. Only the newest may be rotated.
ALTER TABLE tokens ADD COLUMN rotated_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE tokens DROP COLUMN rotated_at;
