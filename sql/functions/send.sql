-- The send path's writes (issue 8): a provider's result, applied with
-- what it asks of the merchant next.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- A provider's result for one payout, as payout_transition() takes it,
-- with the provider's next action ('otp_required', or 'redirect' with
-- p_next_action_url, or NULL).  A result in the state the payout is
-- already in that asks for something (Paystack's "otp": pending_created;
-- PaynetEasy's redirect-to: pending_promise) is no transition: the next
-- action is stored, the state kept, a provider reference we did not know
-- yet kept too; when the next action is new, the payout's event is sent
-- again, once, so that the merchant learns of it.  A transition this
-- applies sets the next action to the result's own (usually none):
-- whatever was awaited is over, and the transition's event shows what is
-- awaited now.  Transitions made elsewhere (the API's void of a staged
-- payout) never see a next action: only a sent payout has one.  The next
-- action is returned as the API shows it (payout_next_action_json).  The
-- sub-status before and the gateway come back too, for the metrics'
-- payout_transitions_total (a changed result type needs the DROPs).
DROP FUNCTION IF EXISTS payout_apply_result(bigint, text[], text, text,
    text, text, text);
DROP FUNCTION IF EXISTS payout_apply_result(bigint, text[], text, text,
    text, text, text, text);
CREATE OR REPLACE FUNCTION payout_apply_result(
    p_id bigint, p_from text[], p_to text, p_source text,
    p_gateway_payout_id text, p_failure_reason text, p_next_action text,
    p_next_action_url text)
RETURNS TABLE (applied boolean, sub_status text, gateway_payout_id text,
               failure_reason text, next_action json, from_sub_status text,
               gateway text)
LANGUAGE plpgsql AS $$
DECLARE
    p     payouts;
    t     record;
    news  boolean;
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
        news := p.next_action IS DISTINCT FROM p_next_action
                OR p.next_action_url IS DISTINCT FROM p_next_action_url;

        UPDATE payouts SET
            next_action = p_next_action,
            next_action_url = p_next_action_url,
            gateway_payout_id = coalesce(payouts.gateway_payout_id,
                                         p_gateway_payout_id),
            updated_at = now()
        WHERE payouts.id = p_id
        RETURNING * INTO p;

        IF news THEN
            PERFORM payout_emit(p);
        END IF;

        RETURN QUERY SELECT false, p.sub_status, p.gateway_payout_id,
                            p.failure_reason, payout_next_action_json(p),
                            prev, p.gateway;
        RETURN;
    END IF;

    -- the transition applies (payout_transition's own test): what it
    -- awaits is set first, so that its event shows it
    IF p.sub_status = ANY (p_from)
       AND NOT (p.sub_status = 'pending_staged' AND p_source <> 'api')
       AND (p.next_action IS DISTINCT FROM p_next_action
            OR p.next_action_url IS DISTINCT FROM p_next_action_url)
    THEN
        UPDATE payouts SET next_action = p_next_action,
                           next_action_url = p_next_action_url
        WHERE payouts.id = p_id;
    END IF;

    SELECT * INTO t FROM payout_transition(
        p_id => p_id, p_from => p_from, p_to => p_to, p_source => p_source,
        p_gateway_payout_id => p_gateway_payout_id,
        p_failure_reason => p_failure_reason, p_detail => NULL);

    RETURN QUERY SELECT t.applied, t.sub_status, t.gateway_payout_id,
        t.failure_reason,
        (SELECT payout_next_action_json(n) FROM payouts n WHERE n.id = p_id),
        prev, p.gateway;
END
$$;
