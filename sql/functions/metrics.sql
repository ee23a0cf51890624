-- Operations (issue 11): what the metrics and payoutctl status read from
-- the database.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- The gauges of one scrape, one row each: backlog and oldest (the
-- pending webhook deliveries, and the age in seconds of the oldest, 0
-- when none), pending (by gateway and sub-status), stuck (by gateway:
-- sent, still pending, older than p_window_s, payout_reconcile_window),
-- dead (deliveries that gave up).
CREATE OR REPLACE FUNCTION payout_metrics(p_window_s bigint)
RETURNS TABLE (metric text, gateway text, sub_status text, value bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'backlog', NULL::text, NULL::text, count(*)
    FROM webhook_deliveries WHERE state = 'pending'
    UNION ALL
    SELECT 'oldest', NULL, NULL,
           coalesce(floor(extract(epoch FROM now() - min(created_at))),
                    0)::bigint
    FROM webhook_deliveries WHERE state = 'pending'
    UNION ALL
    SELECT 'pending', p.gateway, p.sub_status, count(*)
    FROM payouts p WHERE p.status = 'pending'
    GROUP BY p.gateway, p.sub_status
    UNION ALL
    SELECT 'stuck', p.gateway, NULL, count(*)
    FROM payouts p
    WHERE p.status = 'pending' AND p.sub_status <> 'pending_staged'
      AND p.created_at < now() - p_window_s * interval '1 second'
    GROUP BY p.gateway
    UNION ALL
    SELECT 'dead', NULL, NULL, count(*)
    FROM webhook_deliveries WHERE state = 'dead'
$$;

-- Payouts that just became stuck, each returned once ever (the [warn]
-- of ngx_http_payout_stuck.c): marked in the same statement, so workers
-- and nodes never log one twice.
CREATE OR REPLACE FUNCTION payout_stuck_claim(p_window_s bigint,
                                              p_limit integer)
RETURNS TABLE (payout_uuid uuid, gateway text, sub_status text,
               age_s bigint)
LANGUAGE sql AS $$
    UPDATE payouts p SET stuck_logged_at = now()
    FROM (SELECT s.id FROM payouts s
          WHERE s.status = 'pending' AND s.sub_status <> 'pending_staged'
            AND s.stuck_logged_at IS NULL
            AND s.created_at < now() - p_window_s * interval '1 second'
          ORDER BY s.created_at
          LIMIT p_limit
          FOR UPDATE SKIP LOCKED) due
    WHERE p.id = due.id
    RETURNING p.uuid, p.gateway, p.sub_status,
              floor(extract(epoch FROM now() - p.created_at))::bigint
$$;
