-- +goose Up
-- The cluster's key for the tags of the tokens it mints (secret.TagKey), made once here and
-- never changed; it is no authentication secret. Two version 4 UUIDs give 244 random bits
-- from the server's strong random source, without an extension. untagged_sealed says that no
-- node mints untagged tokens any more; during a rolling upgrade old nodes still do, so it
-- starts false and `tokend migrate --seal-untagged-tokens` sets it once the last old node is
-- gone (docs/operations.md).
CREATE TABLE token_tags (
    id integer PRIMARY KEY CHECK (id = 1),
    tag_key bytea NOT NULL CHECK (length(tag_key) = 32),
    untagged_sealed boolean NOT NULL
);
INSERT INTO token_tags (id, tag_key, untagged_sealed)
VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), false);

-- +goose Down
DROP TABLE token_tags;
