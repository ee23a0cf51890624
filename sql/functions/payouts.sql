-- Payouts as operations, one round trip each.  The module decides
-- transitions with its state machine and passes the allowed source
-- states; these functions apply them atomically, append the history
-- and queue the outbox in the same transaction.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- the merchant-facing event for one payout, as its webhook carries it
CREATE OR REPLACE FUNCTION payout_event_payload(p payouts, event_type text,
                                                msg_id text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'webhook_type', 'payout',
        'event_type', event_type,
        'event_id', msg_id,
        'uuid', p.uuid,
        'status', p.status,
        'sub_status', p.sub_status,
        'amount', p.amount,
        'currency', p.currency,
        'gateway', p.gateway,
        'gateway_payout_id', p.gateway_payout_id,
        'recipient_uuid', (SELECT r.uuid FROM recipients r
                           WHERE r.id = p.recipient_id),
        'idempotency_key', p.idempotency_key,
        'metadata', p.metadata,
        'failure_reason', p.failure_reason,
        'next_action', payout_next_action_json(p),
        'livemode', p.livemode,
        'timestamp', to_char(now() AT TIME ZONE 'UTC',
                             'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;

-- a payout's events go to the endpoints of its own mode only
CREATE OR REPLACE FUNCTION payout_emit(p payouts) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    msg text := 'msg_' || replace(gen_random_uuid()::text, '-', '');
    ev  bigint;
BEGIN
    INSERT INTO webhook_events (msg_id, tenant_id, payout_id, event_type,
                                payload)
    VALUES (msg, p.tenant_id, p.id, 'payout.' || p.sub_status,
            payout_event_payload(p, 'payout.' || p.sub_status, msg))
    RETURNING id INTO ev;

    PERFORM webhook_enqueue(ev, p.tenant_id, p.livemode, p.id, NULL,
                            p.webhook_urls);

    PERFORM pg_notify('payout_webhooks', ev::text);
END
$$;

-- POST /payouts.  outcome: created | existing | conflict |
-- recipient_not_found | recipient_gateway_mismatch.  The idempotency key
-- and recipient_uuid are looked up in the key's mode only.
CREATE OR REPLACE FUNCTION payout_create(
    p_tenant bigint, p_livemode boolean, p_idempotency_key text,
    p_request_hash bytea, p_amount bigint, p_currency text, p_gateway text,
    p_narration text, p_metadata jsonb, p_webhook_urls jsonb,
    p_webhook_secret_enc bytea, p_stage boolean, p_recipient_uuid uuid,
    p_type text, p_fingerprint bytea, p_name text, p_email text,
    p_phone text, p_bank_code text, p_bank_name text,
    p_bank_account_name text, p_account_enc bytea, p_account_last4 text,
    p_mm_provider text, p_mm_enc bytea, p_mm_last4 text,
    p_account_id text DEFAULT NULL, p_country text DEFAULT NULL,
    p_balance_id text DEFAULT NULL)
RETURNS TABLE (outcome text, payout_id bigint, payout_uuid uuid,
               recipient_uuid uuid, sub_status text,
               gateway_payout_id text, failure_reason text)
LANGUAGE plpgsql AS $$
DECLARE
    p      payouts;
    rid    bigint;
    rgw    text;
BEGIN
    IF p_idempotency_key IS NOT NULL THEN
        SELECT * INTO p FROM payouts
        WHERE tenant_id = p_tenant AND livemode = p_livemode
          AND idempotency_key = p_idempotency_key;

        IF FOUND THEN
            RETURN QUERY SELECT
                CASE WHEN p.request_hash = p_request_hash
                     THEN 'existing' ELSE 'conflict' END,
                p.id, p.uuid,
                (SELECT r.uuid FROM recipients r WHERE r.id = p.recipient_id),
                p.sub_status, p.gateway_payout_id, p.failure_reason;
            RETURN;
        END IF;
    END IF;

    IF p_recipient_uuid IS NOT NULL THEN
        SELECT id, gateway INTO rid, rgw FROM recipients
        WHERE tenant_id = p_tenant AND livemode = p_livemode
          AND uuid = p_recipient_uuid;

        IF NOT FOUND THEN
            RETURN QUERY SELECT 'recipient_not_found'::text, NULL::bigint,
                NULL::uuid, NULL::uuid, NULL::text, NULL::text, NULL::text;
            RETURN;
        END IF;

        IF rgw <> p_gateway THEN
            RETURN QUERY SELECT 'recipient_gateway_mismatch'::text,
                NULL::bigint, NULL::uuid, p_recipient_uuid, rgw, NULL::text,
                NULL::text;
            RETURN;
        END IF;
    END IF;

    -- claim the idempotency key first: a request that loses the race
    -- must leave nothing behind, not even an inline recipient
    INSERT INTO payouts (tenant_id, recipient_id, livemode, amount, currency,
        gateway, status, sub_status, narration, metadata, idempotency_key,
        request_hash, webhook_urls, webhook_secret_enc)
    VALUES (p_tenant, rid, p_livemode, p_amount, p_currency, p_gateway,
        'pending', CASE WHEN p_stage THEN 'pending_staged'
                        ELSE 'pending_created' END,
        p_narration, p_metadata, p_idempotency_key, p_request_hash,
        ARRAY(SELECT jsonb_array_elements_text(
                  coalesce(p_webhook_urls, '[]'::jsonb))),
        p_webhook_secret_enc)
    ON CONFLICT (tenant_id, livemode, idempotency_key) DO NOTHING
    RETURNING * INTO p;

    IF p.id IS NULL THEN
        -- a concurrent request with the same key committed first
        SELECT * INTO p FROM payouts
        WHERE tenant_id = p_tenant AND livemode = p_livemode
          AND idempotency_key = p_idempotency_key;

        RETURN QUERY SELECT
            CASE WHEN p.request_hash = p_request_hash
                 THEN 'existing' ELSE 'conflict' END,
            p.id, p.uuid,
            (SELECT r.uuid FROM recipients r WHERE r.id = p.recipient_id),
            p.sub_status, p.gateway_payout_id, p.failure_reason;
        RETURN;
    END IF;

    IF p_recipient_uuid IS NULL THEN
        SELECT u.r_id INTO rid
        FROM payout_recipient_upsert(p_tenant, p_livemode, p_gateway, p_type,
            p_fingerprint, p_name, p_email, p_phone, p_bank_code,
            p_bank_name, p_bank_account_name, p_account_enc,
            p_account_last4, p_mm_provider, p_mm_enc, p_mm_last4, NULL,
            NULL, p_account_id, p_country, p_balance_id) u;

        UPDATE payouts SET recipient_id = rid WHERE id = p.id
        RETURNING * INTO p;
    END IF;

    INSERT INTO payout_events (payout_id, from_sub_status, to_sub_status,
                               source)
    VALUES (p.id, NULL, p.sub_status, 'api');

    PERFORM payout_emit(p);

    RETURN QUERY SELECT 'created'::text, p.id, p.uuid,
        (SELECT r.uuid FROM recipients r WHERE r.id = p.recipient_id),
        p.sub_status, p.gateway_payout_id, p.failure_reason;
END
$$;

-- what a connector needs to send a payout (numbers stay encrypted here);
-- new columns go last, so that readers by position keep working
CREATE OR REPLACE FUNCTION payout_instruction(p_tenant bigint, p_id bigint)
RETURNS TABLE (payout_id bigint, payout_uuid uuid, tenant_id bigint,
               amount bigint, currency text, gateway text, narration text,
               sub_status text, gateway_payout_id text, recipient_type text,
               account_number_enc text, bank_code text,
               bank_account_name text, mobile_money_number_enc text,
               mobile_money_provider text, recipient_name text,
               recipient_uuid uuid, gateway_recipient_code text,
               account_id text, country text, balance_id text)
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.uuid, p.tenant_id, p.amount, p.currency::text, p.gateway,
           p.narration, p.sub_status, p.gateway_payout_id, r.recipient_type,
           encode(r.account_number_enc, 'hex'), r.bank_code,
           r.bank_account_name, encode(r.mobile_money_number_enc, 'hex'),
           r.mobile_money_provider, r.name, r.uuid, r.gateway_recipient_code,
           r.account_id, r.country, r.balance_id
    FROM payouts p LEFT JOIN recipients r ON r.id = p.recipient_id
    WHERE p.tenant_id = p_tenant AND p.id = p_id
$$;

-- apply one transition if the payout is in one of p_from; returns the
-- state the payout is in afterwards and whether this call moved it.
-- For a provider's event the module passes every state its target can
-- be reached from (ngx_payout_state_event_sources), so a reversal that
-- arrives before the success applies; here the success it implies is
-- recorded as a step of its own, history and webhook included.  No
-- provider event (any source but the API) applies to, or leaves a
-- reference on, a staged payout: the provider has never seen it.
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
