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
-- own request may still be talking to the provider.
CREATE OR REPLACE FUNCTION payout_reconcile_claim(p_limit integer,
                                                  p_grace_ms bigint,
                                                  p_gateways text[],
                                                  p_backoff_ms bigint,
                                                  p_backoff_max_ms bigint)
RETURNS TABLE (payout_id bigint, tenant_id bigint, payout_uuid uuid,
               gateway text, sub_status text, age_s bigint,
               checks integer)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT id FROM payouts
        WHERE status = 'pending'
          AND sub_status IN ('pending_created', 'pending_promise')
          AND coalesce(next_check_at,
                       updated_at + p_grace_ms * interval '1 millisecond')
              <= now()
          AND (p_gateways IS NULL
               OR gateway || CASE WHEN livemode THEN ':live' ELSE ':test' END
                  = ANY (p_gateways))
        ORDER BY coalesce(next_check_at, updated_at)
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE payouts p SET
        provider_attempts = p.provider_attempts + 1,
        next_check_at = now() + CASE
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
