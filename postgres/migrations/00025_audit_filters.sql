-- +goose Up
-- The audit log's filters: by actor, by token (as the actor, or as the target), by event type;
-- each newest first within an account.
CREATE INDEX audit_events_actor ON audit_events (account_id, actor_user_id, id);
CREATE INDEX audit_events_actor_token ON audit_events (account_id, actor_token, id);
CREATE INDEX audit_events_target ON audit_events (account_id, target_id, id);
CREATE INDEX audit_events_action ON audit_events (account_id, action, id);

-- +goose Down
DROP INDEX audit_events_action;
DROP INDEX audit_events_target;
DROP INDEX audit_events_actor_token;
DROP INDEX audit_events_actor;
