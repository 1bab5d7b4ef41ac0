-- +goose Up
-- Requests per token per UTC day, for activity charts.
CREATE TABLE token_daily_uses (
    token_id BIGINT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    day      DATE   NOT NULL,
    count    BIGINT NOT NULL,
    PRIMARY KEY (token_id, day)
);

-- +goose Down
DROP TABLE token_daily_uses;
