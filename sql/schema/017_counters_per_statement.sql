-- 017: 015's counters added per statement, not per row.
--
-- A row trigger adds 1 to the same counter row once per inserted row.
-- In one transaction none of those row versions can be pruned, so each
-- update walks every version before it: inserting 200,000 payouts in
-- one statement (an import, the bench's fill) never finished in twelve
-- minutes.  A statement trigger reads the statement's rows (a
-- transition table) and adds each group's count once.  Changes of
-- status stay row triggers (015): a transition changes one row, and
-- their WHEN clause skips updates that change nothing counted.

DROP TRIGGER payouts_count ON payouts;
DROP TRIGGER recipients_count ON recipients;

-- the counts of a statement's rows (changed), added with sign: +1 for an
-- insert, -1 for a delete; TG_ARGV[0] is the resource.  Groups in key
-- order, so two statements lock a tenant's counter rows in one order.
CREATE FUNCTION tenant_counters_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    sign bigint := CASE WHEN TG_OP = 'DELETE' THEN -1 ELSE 1 END;
BEGIN
    IF TG_ARGV[0] = 'payouts' THEN
        INSERT INTO tenant_counters AS c (tenant_id, livemode, resource,
                                          status, slot, n)
        SELECT s.tenant_id, s.livemode, 'payouts', s.status,
               pg_backend_pid() % 8, sign * count(*)
        FROM changed s
        GROUP BY s.tenant_id, s.livemode, s.status
        ORDER BY s.tenant_id, s.livemode, s.status
        ON CONFLICT (tenant_id, livemode, resource, status, slot)
        DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO tenant_counters AS c (tenant_id, livemode, resource,
                                          status, slot, n)
        SELECT s.tenant_id, s.livemode, 'recipients', '',
               pg_backend_pid() % 8, sign * count(*)
        FROM changed s
        GROUP BY s.tenant_id, s.livemode
        ORDER BY s.tenant_id, s.livemode
        ON CONFLICT (tenant_id, livemode, resource, status, slot)
        DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END
$$;

-- a trigger with a transition table takes one event
CREATE TRIGGER payouts_count_insert
    AFTER INSERT ON payouts REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_counters_statement('payouts');
CREATE TRIGGER payouts_count_delete
    AFTER DELETE ON payouts REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_counters_statement('payouts');
CREATE TRIGGER recipients_count_insert
    AFTER INSERT ON recipients REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT
    EXECUTE FUNCTION tenant_counters_statement('recipients');
CREATE TRIGGER recipients_count_delete
    AFTER DELETE ON recipients REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT
    EXECUTE FUNCTION tenant_counters_statement('recipients');
