-- +goose Up
-- The audit log uses dbt's event names where dbt has the event; earlier rows are renamed so
-- that a filter by event type finds them too.
UPDATE audit_events SET action = 'service_token.created' WHERE action = 'token.create' AND target_type = 'service';
UPDATE audit_events SET action = 'service_token.revoked' WHERE action = 'token.delete' AND target_type = 'service';
UPDATE audit_events SET action = 'account_scoped_pat.created' WHERE action = 'token.create' AND target_type = 'pat';
UPDATE audit_events SET action = 'account_scoped_pat.deleted' WHERE action = 'token.delete' AND target_type = 'pat';

-- +goose Down
UPDATE audit_events SET action = 'token.create' WHERE action IN ('service_token.created', 'account_scoped_pat.created');
UPDATE audit_events SET action = 'token.delete' WHERE action IN ('service_token.revoked', 'account_scoped_pat.deleted');
