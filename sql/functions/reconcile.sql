-- The reconciler: claim in-flight payouts due for a check at the provider.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- A node reconciles only payouts of the gateways it has configured, in
-- their mode: a node must never check a payout at a gateway it does not
-- know, and payouts no node of this configuration can settle must not
-- fill its batches.  p_gateways holds "name:test" or "name:live"; NULL
-- means every gateway.
-- The first ten checks of a payout p_backoff_ms apart, then ten times
-- that, doubling with each check up to p_backoff_max_ms
-- (payout_reconcile_backoff); the grace leaves a payout alone while its
-- own request may still be talking to the provider.  A payout in flight
-- (pending_promise) at a gateway of p_poll (a connector that learns the
-- status by polling: NGX_PAYOUT_CAP_POLL, PaynetEasy's) follows the
-- provider's documented cadence instead: from p_poll_ms after it got
-- there, every p_poll_ms to 4/3 of it (random: 3 to 4 s, so 3 to 5 s
-- with the reconciler's tick) while the payout is younger than five
-- minutes, then every 5 to 10 minutes until it is an hour old, then
-- every p_backoff_max_ms (the callback is expected by then).
CREATE OR REPLACE FUNCTION payout_reconcile_claim(p_limit integer,
                                                  p_grace_ms bigint,
                                                  p_gateways text[],
                                                  p_backoff_ms bigint,
                                                  p_backoff_max_ms bigint,
                                                  p_poll text[],
                                                  p_poll_ms bigint)
RETURNS TABLE (payout_id bigint, tenant_id bigint, payout_uuid uuid,
               gateway text, sub_status text, age_s bigint,
               checks integer)
LANGUAGE sql AS $$
    WITH candidate AS (
        SELECT id, next_check_at, updated_at,
               (sub_status = 'pending_promise'
                AND gateway || CASE WHEN livemode THEN ':live'
                                    ELSE ':test' END
                    = ANY (coalesce(p_poll, '{}'::text[]))) AS polled
        FROM payouts
        WHERE status = 'pending'
          AND sub_status IN ('pending_created', 'pending_promise')
          AND (p_gateways IS NULL
               OR gateway || CASE WHEN livemode THEN ':live' ELSE ':test' END
                  = ANY (p_gateways))
    ), due AS (
        SELECT p.id, c.polled FROM payouts p JOIN candidate c ON c.id = p.id
        WHERE coalesce(c.next_check_at,
                       c.updated_at + CASE WHEN c.polled THEN p_poll_ms
                                           ELSE p_grace_ms END
                                      * interval '1 millisecond')
              <= now()
        ORDER BY coalesce(c.next_check_at, c.updated_at)
        LIMIT p_limit
        FOR UPDATE OF p SKIP LOCKED
    )
    UPDATE payouts p SET
        provider_attempts = p.provider_attempts + 1,
        next_check_at = now() + CASE
            WHEN due.polled AND p.created_at > now() - interval '5 minutes'
                THEN p_poll_ms * (1 + random() / 3)
            WHEN due.polled AND p.created_at > now() - interval '1 hour'
                THEN 300000 * (1 + random())
            WHEN due.polled THEN p_backoff_max_ms
            WHEN p.provider_attempts < 10 THEN p_backoff_ms
            ELSE least(p_backoff_max_ms,
                       10 * p_backoff_ms
                       * 2 ^ least(p.provider_attempts - 10, 30))
            END * interval '1 millisecond'
    FROM due WHERE p.id = due.id
    RETURNING p.id, p.tenant_id, p.uuid, p.gateway, p.sub_status,
              extract(epoch FROM now() - p.created_at)::bigint,
              p.provider_attempts
$$;

-- The five-argument form, for nodes not yet upgraded: no polling.
CREATE OR REPLACE FUNCTION payout_reconcile_claim(p_limit integer,
                                                  p_grace_ms bigint,
                                                  p_gateways text[],
                                                  p_backoff_ms bigint,
                                                  p_backoff_max_ms bigint)
RETURNS TABLE (payout_id bigint, tenant_id bigint, payout_uuid uuid,
               gateway text, sub_status text, age_s bigint,
               checks integer)
LANGUAGE sql AS $$
    SELECT * FROM payout_reconcile_claim(p_limit, p_grace_ms, p_gateways,
                                         p_backoff_ms, p_backoff_max_ms,
                                         NULL::text[], 3000)
$$;

-- The three-argument form, for nodes not yet upgraded: the default
-- backoff, 3 s then from 30 s up to an hour.
CREATE OR REPLACE FUNCTION payout_reconcile_claim(p_limit integer,
                                                  p_grace_ms bigint,
                                                  p_gateways text[])
RETURNS TABLE (payout_id bigint, tenant_id bigint, payout_uuid uuid,
               gateway text, sub_status text, age_s bigint,
               checks integer)
LANGUAGE sql AS $$
    SELECT * FROM payout_reconcile_claim(p_limit, p_grace_ms, p_gateways,
                                         3000, 3600000)
$$;

-- The two-argument form, for nodes older still: every gateway.
CREATE OR REPLACE FUNCTION payout_reconcile_claim(p_limit integer,
                                                  p_grace_ms bigint)
RETURNS TABLE (payout_id bigint, tenant_id bigint, payout_uuid uuid,
               gateway text, sub_status text, age_s bigint,
               checks integer)
LANGUAGE sql AS $$
    SELECT * FROM payout_reconcile_claim(p_limit, p_grace_ms, NULL::text[])
$$;
