-- +goose Up
-- Token lists are newest first: walking this index backwards yields a page without sorting
-- every token of the account, which a top-N sort over rows read in id order (creation order)
-- does at its worst.
CREATE INDEX tokens_account_created ON tokens (account_id, kind, created_at, id);

-- +goose Down
DROP INDEX tokens_account_created;
