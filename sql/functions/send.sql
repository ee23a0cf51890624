-- The send path's writes (issue 8): a provider's result, applied with
-- what it asks of the merchant next.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- A provider's result for one payout, as payout_transition() takes it,
-- with the provider's next action ('otp_required', or NULL).  A result in
-- the state the payout is already in that asks for something (Paystack's
-- "otp": pending_created) is no transition: the next action is stored,
-- the state kept, a provider reference we did not know yet kept too.  A
-- transition this applies clears the next action: whatever was awaited
-- is over.  Transitions made elsewhere (the API's void of a staged
-- payout) never see a next action: only a sent payout has one.  The
-- sub-status before and the gateway come back too, for the metrics'
-- payout_transitions_total (a new result column needs the DROP).
DROP FUNCTION IF EXISTS payout_apply_result(bigint, text[], text, text,
    text, text, text);
CREATE OR REPLACE FUNCTION payout_apply_result(
    p_id bigint, p_from text[], p_to text, p_source text,
    p_gateway_payout_id text, p_failure_reason text, p_next_action text)
RETURNS TABLE (applied boolean, sub_status text, gateway_payout_id text,
               failure_reason text, next_action text, from_sub_status text,
               gateway text)
LANGUAGE plpgsql AS $$
DECLARE
    p     payouts;
    t     record;
    prev  text;
BEGIN
    SELECT * INTO p FROM payouts WHERE payouts.id = p_id FOR UPDATE;

    IF NOT FOUND THEN
        RETURN;
    END IF;

    prev := p.sub_status;

    IF p_next_action IS NOT NULL AND p.sub_status = p_to
       AND p.sub_status <> 'pending_staged'
    THEN
        UPDATE payouts SET
            next_action = p_next_action,
            gateway_payout_id = coalesce(payouts.gateway_payout_id,
                                         p_gateway_payout_id),
            updated_at = now()
        WHERE payouts.id = p_id
        RETURNING * INTO p;

        RETURN QUERY SELECT false, p.sub_status, p.gateway_payout_id,
                            p.failure_reason, p.next_action, prev, p.gateway;
        RETURN;
    END IF;

    SELECT * INTO t FROM payout_transition(
        p_id => p_id, p_from => p_from, p_to => p_to, p_source => p_source,
        p_gateway_payout_id => p_gateway_payout_id,
        p_failure_reason => p_failure_reason, p_detail => NULL);

    IF t.applied THEN
        UPDATE payouts SET next_action = NULL
        WHERE payouts.id = p_id AND payouts.next_action IS NOT NULL;
    END IF;

    RETURN QUERY SELECT t.applied, t.sub_status, t.gateway_payout_id,
        t.failure_reason,
        (SELECT n.next_action FROM payouts n WHERE n.id = p_id), prev,
        p.gateway;
END
$$;
