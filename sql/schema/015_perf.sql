-- 015: performance (issue 12).
--
-- Every foreign key gets an index on its columns, so deleting a parent
-- (a payout, an event, a tenant) or joining from it never scans the
-- child table: deleting 200,000 payouts took minutes while
-- webhook_events.payout_id had none.  The loop indexes whatever foreign
-- key has no index leading with its columns (including those of schema
-- files before this one, such as 013's payout links), so an index a
-- file already made is not made twice.  t/integration/test_fk_indexes.py
-- checks that none is left, with the same function.
-- the foreign keys whose columns do not lead any complete (not partial)
-- index of their table
CREATE FUNCTION unindexed_foreign_keys()
RETURNS TABLE (tab regclass, conname name, cols text)
LANGUAGE sql STABLE AS $$
    SELECT c.conrelid::regclass, c.conname,
           (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
            FROM unnest(c.conkey) WITH ORDINALITY AS k(num, ord)
            JOIN pg_attribute a ON a.attrelid = c.conrelid
                               AND a.attnum = k.num)
    FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE c.contype = 'f'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (
          SELECT 1 FROM pg_index i
          WHERE i.indrelid = c.conrelid
            AND i.indpred IS NULL
            AND (string_to_array(i.indkey::text, ' ')::int2[])
                [1:array_length(c.conkey, 1)] @> c.conkey
            AND (string_to_array(i.indkey::text, ' ')::int2[])
                [1:array_length(c.conkey, 1)] <@ c.conkey)
    ORDER BY 1, 2
$$;

DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN SELECT * FROM unindexed_foreign_keys() LOOP
        EXECUTE format('CREATE INDEX %I ON %s (%s)',
                       regexp_replace(fk.conname, '_fkey$', '') || '_fk',
                       fk.tab, fk.cols);
    END LOOP;
END
$$;

-- A worker remembers the API keys it accepted (payout_api_key_cache);
-- any change to a key (a revocation above all) tells every worker to
-- forget them, so the cache's TTL only bounds the window when that
-- notification is lost (a worker reconnecting forgets them too).
CREATE FUNCTION api_keys_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('payout_api_keys', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed
    AFTER UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION api_keys_changed();

-- Exact totals without counting: meta.totalItems of an unfiltered list
-- (and of a list filtered by status alone) is a sum of these rows, kept
-- by triggers in the transaction that inserts, deletes or changes the
-- status of a payout or recipient, so it is as exact as count(*) in the
-- same snapshot.  A tenant's count is spread over up to 8 slots, chosen
-- by the backend, so concurrent creates of one tenant do not queue on
-- one row lock until each other's commit.  status is '' for recipients.
CREATE TABLE tenant_counters (
    tenant_id       bigint NOT NULL REFERENCES tenants(id)
                    ON DELETE CASCADE,
    livemode        boolean NOT NULL,
    resource        text NOT NULL CHECK (resource IN ('payouts',
                                                      'recipients')),
    status          text NOT NULL,
    slot            smallint NOT NULL,
    n               bigint NOT NULL,
    PRIMARY KEY (tenant_id, livemode, resource, status, slot)
);

CREATE FUNCTION tenant_counter_add(p_tenant_id bigint, p_livemode boolean,
    p_resource text, p_status text, p_delta bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO tenant_counters AS c (tenant_id, livemode, resource, status,
                                      slot, n)
    VALUES (p_tenant_id, p_livemode, p_resource, p_status,
            pg_backend_pid() % 8, p_delta)
    ON CONFLICT (tenant_id, livemode, resource, status, slot)
    DO UPDATE SET n = c.n + excluded.n
$$;

CREATE FUNCTION payouts_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM tenant_counter_add(OLD.tenant_id, OLD.livemode, 'payouts',
                                   OLD.status, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM tenant_counter_add(NEW.tenant_id, NEW.livemode, 'payouts',
                                   NEW.status, 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION recipients_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM tenant_counter_add(OLD.tenant_id, OLD.livemode,
                                   'recipients', '', -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM tenant_counter_add(NEW.tenant_id, NEW.livemode,
                                   'recipients', '', 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION tenant_counters_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tenant_counters WHERE resource = TG_ARGV[0];
    RETURN NULL;
END
$$;

CREATE TRIGGER payouts_count
    AFTER INSERT OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION payouts_count();
CREATE TRIGGER payouts_count_update
    AFTER UPDATE OF tenant_id, livemode, status ON payouts
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.livemode IS DISTINCT FROM NEW.livemode
          OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION payouts_count();
CREATE TRIGGER payouts_count_truncate
    AFTER TRUNCATE ON payouts
    FOR EACH STATEMENT EXECUTE FUNCTION tenant_counters_truncate('payouts');

CREATE TRIGGER recipients_count
    AFTER INSERT OR DELETE ON recipients
    FOR EACH ROW EXECUTE FUNCTION recipients_count();
CREATE TRIGGER recipients_count_update
    AFTER UPDATE OF tenant_id, livemode ON recipients
    FOR EACH ROW
    WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
          OR OLD.livemode IS DISTINCT FROM NEW.livemode)
    EXECUTE FUNCTION recipients_count();
CREATE TRIGGER recipients_count_truncate
    AFTER TRUNCATE ON recipients
    FOR EACH STATEMENT
    EXECUTE FUNCTION tenant_counters_truncate('recipients');

-- what the rows hold now
INSERT INTO tenant_counters (tenant_id, livemode, resource, status, slot, n)
SELECT tenant_id, livemode, 'payouts', status, 0, count(*)
FROM payouts GROUP BY 1, 2, 4;
INSERT INTO tenant_counters (tenant_id, livemode, resource, status, slot, n)
SELECT tenant_id, livemode, 'recipients', '', 0, count(*)
FROM recipients GROUP BY 1, 2;
