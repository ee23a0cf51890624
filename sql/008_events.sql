-- 008: provider events apply by what they imply (issue 13, item 9).
--
-- Redefines payout_transition (003).  The module passes, for a
-- provider's event, every state its target can be reached from
-- (ngx_payout_state_event_sources), so a reversal that arrives before
-- the success applies; here the success it implies is recorded as a
-- step of its own, history and webhook included.  No provider event
-- (any source but the API) applies to, or leaves a reference on, a
-- staged payout: the provider has never seen it.

CREATE OR REPLACE FUNCTION payout_transition(
    p_id bigint, p_from text[], p_to text, p_source text,
    p_gateway_payout_id text, p_failure_reason text, p_detail jsonb)
RETURNS TABLE (applied boolean, sub_status text, gateway_payout_id text,
               failure_reason text)
LANGUAGE plpgsql AS $$
DECLARE
    p     payouts;
    prev  text;
BEGIN
    SELECT * INTO p FROM payouts WHERE id = p_id FOR UPDATE;

    IF NOT FOUND THEN
        RETURN;
    END IF;

    IF p.sub_status = 'pending_staged' AND p_source <> 'api' THEN
        RETURN QUERY SELECT false, p.sub_status, p.gateway_payout_id,
                            p.failure_reason;
        RETURN;
    END IF;

    IF NOT (p.sub_status = ANY (p_from)) THEN
        -- duplicate, late or out-of-order: never move backwards, but keep
        -- a provider reference we did not know yet
        IF p.gateway_payout_id IS NULL AND p_gateway_payout_id IS NOT NULL
        THEN
            UPDATE payouts SET gateway_payout_id = p_gateway_payout_id,
                               updated_at = now()
            WHERE id = p_id RETURNING * INTO p;
        END IF;

        RETURN QUERY SELECT false, p.sub_status, p.gateway_payout_id,
                            p.failure_reason;
        RETURN;
    END IF;

    prev := p.sub_status;

    -- a reversal of a payout still pending here: it had succeeded
    IF p_to = 'canceled_reversed' AND prev <> 'success' THEN
        UPDATE payouts SET
            status = 'success',
            sub_status = 'success',
            gateway_payout_id = coalesce(p_gateway_payout_id,
                                         payouts.gateway_payout_id),
            updated_at = now()
        WHERE id = p_id
        RETURNING * INTO p;

        INSERT INTO payout_events (payout_id, from_sub_status, to_sub_status,
                                   source, detail)
        VALUES (p.id, prev, 'success', p_source,
                coalesce(p_detail, '{}'::jsonb)
                || jsonb_build_object('implied_by', p_to));

        PERFORM payout_emit(p);

        prev := 'success';
    END IF;

    UPDATE payouts SET
        status = split_part(p_to, '_', 1),
        sub_status = p_to,
        gateway_payout_id = coalesce(p_gateway_payout_id,
                                     payouts.gateway_payout_id),
        failure_reason = coalesce(p_failure_reason, payouts.failure_reason),
        updated_at = now()
    WHERE id = p_id
    RETURNING * INTO p;

    INSERT INTO payout_events (payout_id, from_sub_status, to_sub_status,
                               source, detail)
    VALUES (p.id, prev, p.sub_status, p_source, p_detail);

    PERFORM payout_emit(p);

    RETURN QUERY SELECT true, p.sub_status, p.gateway_payout_id,
                        p.failure_reason;
END
$$;
