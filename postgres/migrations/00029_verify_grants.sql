-- +goose Up
-- The grants that verifying a token reads, packed as internal/verifyrow describes, kept on the
-- row that verification reads anyway: a service token's own grants on its tokens row, the
-- grants of a member's active groups on the membership row. Verifying a token not in the
-- cache then reads two rows by index (the token and, for a PAT, its membership) instead of
-- joining the grants of groups at every first use. The database keeps both columns current:
-- the triggers below recompute them from the tables they summarize, in the transaction that
-- changes one of those tables, whichever program writes it.
--
-- Every statement that writes one of those tables first takes one transaction lock of this
-- schema's (verify_grants_take_turn), so that writes of grants take turns: a recomputation
-- starts only after every other transaction that changed grants has committed, and reads what
-- they wrote. Without it, a group's new permission and a new member of the group, written at
-- once, could each recompute without the other and leave the member's column short of, or
-- past, what the tables say. The store's methods that lock a row before they write grants
-- take the turn before that row lock, so that they and a plain write of the same row cannot
-- wait for each other.
ALTER TABLE tokens ADD COLUMN verify_grants TEXT;
ALTER TABLE memberships ADD COLUMN verify_grants TEXT;

-- +goose StatementBegin
CREATE FUNCTION verify_token_grants(token BIGINT) RETURNS TEXT
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT string_agg(p.id::text || chr(31) || p.permission_set || chr(31) || p.all_projects::int::text
            || chr(31) || coalesce(p.project_id::text, '') || chr(31)
            || to_json(p.writable_environment_categories)::text, chr(30) ORDER BY p.id)
    FROM token_permissions p
    WHERE p.token_id = token
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_member_grants(account BIGINT, member BIGINT) RETURNS TEXT
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT string_agg(p.id::text || chr(31) || p.permission_set || chr(31) || p.all_projects::int::text
            || chr(31) || coalesce(p.project_id::text, '') || chr(31)
            || to_json(p.writable_environment_categories)::text, chr(30) ORDER BY p.id)
    FROM group_members gm
    JOIN account_groups g ON g.id = gm.group_id AND g.account_id = account AND g.state = 1
    JOIN group_permissions p ON p.group_id = g.id
    WHERE gm.account_id = account AND gm.user_id = member
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_grants_take_turn() RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('tokend verify_grants ' || current_schema(), 0))
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_grants_lock() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM verify_grants_take_turn();
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_grants_of_token() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE tokens SET verify_grants = verify_token_grants(id) WHERE id = OLD.token_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE tokens SET verify_grants = verify_token_grants(id) WHERE id = NEW.token_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_refresh_member(account BIGINT, member BIGINT) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
    UPDATE memberships SET verify_grants = verify_member_grants(account, member)
    WHERE account_id = account AND user_id = member
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_refresh_group(grp BIGINT) RETURNS void
LANGUAGE sql SET search_path FROM CURRENT AS $$
    UPDATE memberships m SET verify_grants = verify_member_grants(m.account_id, m.user_id)
    FROM group_members gm
    WHERE gm.group_id = grp AND m.account_id = gm.account_id AND m.user_id = gm.user_id
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_grants_of_group_member() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM verify_refresh_member(OLD.account_id, OLD.user_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM verify_refresh_member(NEW.account_id, NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_grants_of_group_permission() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM verify_refresh_group(OLD.group_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.group_id <> OLD.group_id) THEN
        PERFORM verify_refresh_group(NEW.group_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- A group's state (only an active group's grants count) or its deletion; a deleted group's
-- members are recomputed as their group_members rows go.
CREATE FUNCTION verify_grants_of_group() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM verify_refresh_group(OLD.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION verify_grants_of_new_member() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    NEW.verify_grants := verify_member_grants(NEW.account_id, NEW.user_id);
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER verify_grants_lock BEFORE INSERT OR UPDATE OR DELETE ON token_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION verify_grants_lock();
CREATE TRIGGER verify_grants_lock BEFORE INSERT OR UPDATE OR DELETE ON group_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION verify_grants_lock();
CREATE TRIGGER verify_grants_lock BEFORE INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH STATEMENT EXECUTE FUNCTION verify_grants_lock();
CREATE TRIGGER verify_grants_lock BEFORE UPDATE OR DELETE ON account_groups
    FOR EACH STATEMENT EXECUTE FUNCTION verify_grants_lock();
CREATE TRIGGER verify_grants_lock BEFORE INSERT OR UPDATE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION verify_grants_lock();

CREATE TRIGGER verify_grants AFTER INSERT OR UPDATE OR DELETE ON token_permissions
    FOR EACH ROW EXECUTE FUNCTION verify_grants_of_token();
CREATE TRIGGER verify_grants AFTER INSERT OR UPDATE OR DELETE ON group_permissions
    FOR EACH ROW EXECUTE FUNCTION verify_grants_of_group_permission();
CREATE TRIGGER verify_grants AFTER INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION verify_grants_of_group_member();
CREATE TRIGGER verify_grants AFTER UPDATE OR DELETE ON account_groups
    FOR EACH ROW EXECUTE FUNCTION verify_grants_of_group();
CREATE TRIGGER verify_grants BEFORE INSERT ON memberships
    FOR EACH ROW EXECUTE FUNCTION verify_grants_of_new_member();

UPDATE tokens t SET verify_grants = verify_token_grants(t.id)
WHERE EXISTS (SELECT 1 FROM token_permissions p WHERE p.token_id = t.id);
UPDATE memberships m SET verify_grants = verify_member_grants(m.account_id, m.user_id);

-- +goose Down
DROP TRIGGER verify_grants ON memberships;
DROP TRIGGER verify_grants ON account_groups;
DROP TRIGGER verify_grants ON group_members;
DROP TRIGGER verify_grants ON group_permissions;
DROP TRIGGER verify_grants ON token_permissions;
DROP TRIGGER verify_grants_lock ON memberships;
DROP TRIGGER verify_grants_lock ON account_groups;
DROP TRIGGER verify_grants_lock ON group_members;
DROP TRIGGER verify_grants_lock ON group_permissions;
DROP TRIGGER verify_grants_lock ON token_permissions;
DROP FUNCTION verify_grants_of_new_member();
DROP FUNCTION verify_grants_of_group();
DROP FUNCTION verify_grants_of_group_permission();
DROP FUNCTION verify_grants_of_group_member();
DROP FUNCTION verify_refresh_group(BIGINT);
DROP FUNCTION verify_refresh_member(BIGINT, BIGINT);
DROP FUNCTION verify_grants_of_token();
DROP FUNCTION verify_grants_lock();
DROP FUNCTION verify_grants_take_turn();
DROP FUNCTION verify_member_grants(BIGINT, BIGINT);
DROP FUNCTION verify_token_grants(BIGINT);
ALTER TABLE memberships DROP COLUMN verify_grants;
ALTER TABLE tokens DROP COLUMN verify_grants;
