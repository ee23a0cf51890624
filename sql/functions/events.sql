-- GET /payouts/{uuid}/events (issue 11): a payout's history, oldest
-- first.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- NULL when the tenant has no such payout in this mode (a 404, as for
-- GET /payouts/{uuid}); from is null for the payout's creation.
CREATE OR REPLACE FUNCTION payout_events_json(p_tenant bigint,
    p_livemode boolean, p_uuid uuid)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p.id IS NULL THEN NULL ELSE json_build_object(
        'payout_uuid', p.uuid,
        'data', coalesce((
            SELECT json_agg(json_build_object(
                'id', e.id,
                'from', e.from_sub_status,
                'to', e.to_sub_status,
                'source', e.source,
                'detail', e.detail,
                'created_at', e.created_at)
                ORDER BY e.id)
            FROM payout_events e WHERE e.payout_id = p.id), '[]'::json)) END
    FROM (SELECT 1) one
    LEFT JOIN payouts p ON p.tenant_id = p_tenant
                       AND p.livemode = p_livemode AND p.uuid = p_uuid
$$;
