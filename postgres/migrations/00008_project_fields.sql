-- +goose Up
-- What a client writes on a project beyond its name comes back as sent: the project's type
-- (0 default, 1 hybrid), its subdirectory in the repository, and the ids of the connection,
-- repository, semantic layer configuration and jobs it points at (objects tokend does not
-- hold; kept as references). NULL: not set.
ALTER TABLE projects ADD COLUMN type INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN dbt_project_subdirectory TEXT;
ALTER TABLE projects ADD COLUMN connection_id BIGINT;
ALTER TABLE projects ADD COLUMN repository_id BIGINT;
ALTER TABLE projects ADD COLUMN semantic_layer_config_id BIGINT;
ALTER TABLE projects ADD COLUMN docs_job_id BIGINT;
ALTER TABLE projects ADD COLUMN freshness_job_id BIGINT;

-- +goose Down
ALTER TABLE projects DROP COLUMN freshness_job_id;
ALTER TABLE projects DROP COLUMN docs_job_id;
ALTER TABLE projects DROP COLUMN semantic_layer_config_id;
ALTER TABLE projects DROP COLUMN repository_id;
ALTER TABLE projects DROP COLUMN connection_id;
ALTER TABLE projects DROP COLUMN dbt_project_subdirectory;
ALTER TABLE projects DROP COLUMN type;
