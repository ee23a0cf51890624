-- 006: test and live mode kept apart.  A key sees and touches only
-- resources of its own mode: every lookup by tenant is also by livemode,
-- idempotency keys and recipient fingerprints are unique per mode, and a
-- tenant's webhook endpoints belong to one mode and get only its events.
-- Existing rows keep their mode (payouts and recipients always had one).

-- idempotency keys and create-or-reuse, per mode
ALTER TABLE payouts
    DROP CONSTRAINT payouts_tenant_id_idempotency_key_key,
    ADD CONSTRAINT payouts_tenant_mode_idempotency_key_key
        UNIQUE (tenant_id, livemode, idempotency_key);

ALTER TABLE recipients
    DROP CONSTRAINT recipients_tenant_id_fingerprint_key,
    DROP CONSTRAINT recipients_tenant_id_idempotency_key_key,
    ADD CONSTRAINT recipients_tenant_mode_fingerprint_key
        UNIQUE (tenant_id, livemode, fingerprint),
    ADD CONSTRAINT recipients_tenant_mode_idempotency_key_key
        UNIQUE (tenant_id, livemode, idempotency_key);

-- the lists filter and order within one tenant and mode
DROP INDEX payouts_tenant_id;
DROP INDEX payouts_tenant_created;
CREATE INDEX payouts_tenant_mode_id ON payouts (tenant_id, livemode, id);
CREATE INDEX payouts_tenant_mode_created
    ON payouts (tenant_id, livemode, created_at);

-- Endpoints get a mode.  Until now an endpoint got the events of both
-- modes, and which key made it was not recorded.  So that no merchant
-- silently stops getting the events it got, an endpoint of a tenant with
-- keys of one mode only becomes that mode's, and one of a tenant with
-- keys of both modes stays test and gets a live twin (same URL, same
-- secrets: signatures still verify), which the live key can delete.
ALTER TABLE webhook_endpoints
    ADD COLUMN livemode boolean NOT NULL DEFAULT false;

UPDATE webhook_endpoints e SET livemode = true
WHERE EXISTS (SELECT 1 FROM api_keys k
              WHERE k.tenant_id = e.tenant_id AND k.mode = 'live')
  AND NOT EXISTS (SELECT 1 FROM api_keys k
                  WHERE k.tenant_id = e.tenant_id AND k.mode = 'test');

INSERT INTO webhook_endpoints (tenant_id, livemode, url, secret_enc,
    old_secret_enc, old_secret_expires_at, created_at)
SELECT e.tenant_id, true, e.url, e.secret_enc, e.old_secret_enc,
       e.old_secret_expires_at, e.created_at
FROM webhook_endpoints e
WHERE NOT e.livemode AND e.disabled_at IS NULL
  AND EXISTS (SELECT 1 FROM api_keys k
              WHERE k.tenant_id = e.tenant_id AND k.mode = 'live')
ORDER BY e.id;

CREATE INDEX webhook_endpoints_tenant_mode
    ON webhook_endpoints (tenant_id, livemode);


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

    -- a URL that answered 410 Gone for this payout gets nothing more;
    -- the event is still listed, as disabled, in its delivery log
    INSERT INTO webhook_deliveries (event_id, payout_id, url, state)
    SELECT ev, p.id, u,
           CASE WHEN EXISTS (
               SELECT 1 FROM webhook_deliveries d
               WHERE d.payout_id = p.id AND d.url = u
                 AND d.endpoint_id IS NULL AND d.state = 'disabled')
           THEN 'disabled' ELSE 'pending' END
    FROM unnest(p.webhook_urls) u;

    INSERT INTO webhook_deliveries (event_id, payout_id, endpoint_id, url)
    SELECT ev, p.id, e.id, e.url FROM webhook_endpoints e
    WHERE e.tenant_id = p.tenant_id AND e.livemode = p.livemode
      AND e.disabled_at IS NULL;

    PERFORM pg_notify('payout_webhooks', ev::text);
END
$$;

-- create-or-reuse a recipient by its fingerprint, within the mode
CREATE OR REPLACE FUNCTION payout_recipient_upsert(
    p_tenant bigint, p_livemode boolean, p_gateway text, p_type text,
    p_fingerprint bytea, p_name text, p_email text, p_phone text,
    p_bank_code text, p_bank_name text, p_bank_account_name text,
    p_account_enc bytea, p_account_last4 text, p_mm_provider text,
    p_mm_enc bytea, p_mm_last4 text, p_idempotency_key text,
    p_metadata jsonb, OUT r_id bigint, OUT r_created boolean)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO recipients (tenant_id, livemode, gateway, recipient_type,
        fingerprint, name, email, phone, bank_code, bank_name,
        bank_account_name, account_number_enc, account_number_last4,
        mobile_money_provider, mobile_money_number_enc, mobile_money_last4,
        idempotency_key, metadata)
    VALUES (p_tenant, p_livemode, p_gateway, p_type, p_fingerprint, p_name,
        p_email, p_phone, p_bank_code, p_bank_name, p_bank_account_name,
        p_account_enc, p_account_last4, p_mm_provider, p_mm_enc, p_mm_last4,
        p_idempotency_key, p_metadata)
    ON CONFLICT DO NOTHING
    RETURNING id INTO r_id;

    r_created := r_id IS NOT NULL;

    -- the destination existed (or a concurrent request just made it);
    -- NULL when only the idempotency key clashed
    IF r_id IS NULL THEN
        SELECT id INTO r_id FROM recipients
        WHERE tenant_id = p_tenant AND livemode = p_livemode
          AND fingerprint = p_fingerprint;
    END IF;
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
    p_mm_provider text, p_mm_enc bytea, p_mm_last4 text)
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
            NULL) u;

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

-- POST /payout-recipients.  outcome: created | existing | conflict
CREATE OR REPLACE FUNCTION payout_recipient_create(
    p_tenant bigint, p_livemode boolean, p_gateway text, p_type text,
    p_fingerprint bytea, p_name text, p_email text, p_phone text,
    p_bank_code text, p_bank_name text, p_bank_account_name text,
    p_account_enc bytea, p_account_last4 text, p_mm_provider text,
    p_mm_enc bytea, p_mm_last4 text, p_idempotency_key text,
    p_metadata jsonb)
RETURNS TABLE (outcome text, body json)
LANGUAGE plpgsql AS $$
DECLARE
    r     recipients;
    rid   bigint;
    rnew  boolean;
BEGIN
    IF p_idempotency_key IS NOT NULL THEN
        SELECT * INTO r FROM recipients
        WHERE tenant_id = p_tenant AND livemode = p_livemode
          AND idempotency_key = p_idempotency_key;

        IF FOUND THEN
            IF r.fingerprint = p_fingerprint AND r.gateway = p_gateway THEN
                RETURN QUERY SELECT 'existing'::text,
                                    payout_recipient_json(r);
            ELSE
                RETURN QUERY SELECT 'conflict'::text, NULL::json;
            END IF;
            RETURN;
        END IF;
    END IF;

    SELECT u.r_id, u.r_created INTO rid, rnew
    FROM payout_recipient_upsert(p_tenant, p_livemode, p_gateway, p_type,
        p_fingerprint, p_name, p_email, p_phone, p_bank_code, p_bank_name,
        p_bank_account_name, p_account_enc, p_account_last4, p_mm_provider,
        p_mm_enc, p_mm_last4, p_idempotency_key, p_metadata) u;

    -- a concurrent request took the key for another destination
    IF NOT rnew AND p_idempotency_key IS NOT NULL THEN
        SELECT * INTO r FROM recipients
        WHERE tenant_id = p_tenant AND livemode = p_livemode
          AND idempotency_key = p_idempotency_key;

        IF FOUND AND r.fingerprint <> p_fingerprint THEN
            RETURN QUERY SELECT 'conflict'::text, NULL::json;
            RETURN;
        END IF;
    END IF;

    SELECT * INTO r FROM recipients WHERE id = rid;

    RETURN QUERY SELECT CASE WHEN rnew THEN 'created' ELSE 'existing' END,
                        payout_recipient_json(r);
END
$$;


-- The webhook functions take the key's mode beside its tenant.  The old
-- signatures go, so nothing can call them without a mode.
DROP FUNCTION webhook_deliveries_json(bigint, uuid);
DROP FUNCTION webhook_redeliver(bigint, uuid, bigint);
DROP FUNCTION webhook_endpoint_create(bigint, text, bytea);
DROP FUNCTION webhook_endpoint_rotate(bigint, bigint, bytea, integer);
DROP FUNCTION webhook_endpoint_disable(bigint, bigint);
DROP FUNCTION webhook_endpoints_json(bigint);

-- GET /payouts/{uuid}/webhooks
CREATE FUNCTION webhook_deliveries_json(p_tenant bigint,
    p_livemode boolean, p_uuid uuid)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p.id IS NULL THEN NULL ELSE json_build_object(
        'data', coalesce((
            SELECT json_agg(json_build_object(
                'id', d.id,
                'webhook_id', ev.msg_id,
                'event_type', ev.event_type,
                'url', d.url,
                'state', d.state,
                'attempts', d.attempts,
                'last_status', d.last_status,
                'last_error', d.last_error,
                'next_attempt_at', CASE WHEN d.state = 'pending'
                                        THEN d.next_attempt_at END,
                'delivered_at', d.delivered_at,
                'created_at', d.created_at,
                'history', coalesce((
                    SELECT json_agg(json_build_object(
                        'status_code', a.status_code, 'error', a.error,
                        'duration_ms', a.duration_ms, 'at', a.created_at)
                        ORDER BY a.id)
                    FROM webhook_attempts a WHERE a.delivery_id = d.id),
                    '[]'::json))
                ORDER BY d.id)
            FROM webhook_deliveries d
            JOIN webhook_events ev ON ev.id = d.event_id
            WHERE d.payout_id = p.id), '[]'::json)) END
    FROM (SELECT 1) one
    LEFT JOIN payouts p ON p.tenant_id = p_tenant
                       AND p.livemode = p_livemode AND p.uuid = p_uuid
$$;

-- POST /payouts/{uuid}/webhooks/{id}/redeliver: the same event (same
-- webhook-id) once more, to the same URL, now
CREATE FUNCTION webhook_redeliver(p_tenant bigint, p_livemode boolean,
    p_uuid uuid, p_delivery bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    d    webhook_deliveries;
    nid  bigint;
BEGIN
    SELECT d2.* INTO d FROM webhook_deliveries d2
    JOIN payouts p ON p.id = d2.payout_id
    WHERE d2.id = p_delivery AND p.tenant_id = p_tenant
      AND p.livemode = p_livemode AND p.uuid = p_uuid;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    INSERT INTO webhook_deliveries (event_id, payout_id, endpoint_id, url)
    VALUES (d.event_id, d.payout_id, d.endpoint_id, d.url)
    RETURNING id INTO nid;

    PERFORM pg_notify('payout_webhooks', nid::text);

    RETURN nid;
END
$$;

-- webhook endpoints of a tenant, as the API shows them (no secrets)
CREATE OR REPLACE FUNCTION webhook_endpoint_json(e webhook_endpoints)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', e.id,
        'url', e.url,
        'enabled', e.disabled_at IS NULL,
        'disabled_at', e.disabled_at,
        'previous_secret_expires_at',
            CASE WHEN e.old_secret_expires_at > now()
                 THEN e.old_secret_expires_at END,
        'livemode', e.livemode,
        'created_at', e.created_at)
$$;

CREATE FUNCTION webhook_endpoint_create(p_tenant bigint,
    p_livemode boolean, p_url text, p_secret_enc bytea)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    e  webhook_endpoints;
BEGIN
    INSERT INTO webhook_endpoints (tenant_id, livemode, url, secret_enc)
    VALUES (p_tenant, p_livemode, p_url, p_secret_enc)
    RETURNING * INTO e;

    RETURN webhook_endpoint_json(e);
END
$$;

-- a new secret; the previous one keeps signing beside it for p_overlap
CREATE FUNCTION webhook_endpoint_rotate(p_tenant bigint,
    p_livemode boolean, p_id bigint, p_secret_enc bytea, p_overlap integer)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    e  webhook_endpoints;
BEGIN
    UPDATE webhook_endpoints SET
        old_secret_enc = secret_enc,
        old_secret_expires_at = now() + p_overlap * interval '1 second',
        secret_enc = p_secret_enc
    WHERE id = p_id AND tenant_id = p_tenant AND livemode = p_livemode
      AND disabled_at IS NULL
    RETURNING * INTO e;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    RETURN webhook_endpoint_json(e);
END
$$;

CREATE FUNCTION webhook_endpoint_disable(p_tenant bigint,
    p_livemode boolean, p_id bigint)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    e  webhook_endpoints;
BEGIN
    UPDATE webhook_endpoints SET disabled_at = coalesce(disabled_at, now())
    WHERE id = p_id AND tenant_id = p_tenant AND livemode = p_livemode
    RETURNING * INTO e;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    UPDATE webhook_deliveries SET state = 'disabled', lease_until = NULL
    WHERE endpoint_id = p_id AND state = 'pending';

    RETURN webhook_endpoint_json(e);
END
$$;

CREATE FUNCTION webhook_endpoints_json(p_tenant bigint, p_livemode boolean)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('data', coalesce(json_agg(
        webhook_endpoint_json(e) ORDER BY e.id), '[]'::json))
    FROM webhook_endpoints e
    WHERE e.tenant_id = p_tenant AND e.livemode = p_livemode
$$;
