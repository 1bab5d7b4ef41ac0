-- +goose Up
-- A feed entry that drops only an account's projects (a project was created or changed), not
-- its tokens: tokend.Invalidation.Projects. A node that does not know the column reads the
-- entry as the whole account's, which drops more, never less.
ALTER TABLE change_feed ADD COLUMN projects_only BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE change_feed DROP COLUMN projects_only;
