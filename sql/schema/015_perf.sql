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
