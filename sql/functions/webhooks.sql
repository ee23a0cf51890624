-- Delivering the outbox.  Workers on any number of nginx nodes claim
-- due deliveries with leases (FOR UPDATE SKIP LOCKED), so each attempt
-- is made by one worker.  The API's webhook functions take the key's
-- mode beside its tenant.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- queue one event (of a payout, or of a payout link: p_link) to the
-- resource's own URLs and to the tenant's endpoints of its mode.  A URL
-- that answered 410 Gone for this resource gets nothing more; the event
-- is still listed, as disabled, in its delivery log.
CREATE OR REPLACE FUNCTION webhook_enqueue(p_event bigint, p_tenant bigint,
    p_livemode boolean, p_payout bigint, p_link bigint, p_urls text[])
RETURNS void LANGUAGE sql AS $$
    INSERT INTO webhook_deliveries (event_id, payout_id, link_id, url, state)
    SELECT p_event, p_payout, p_link, u,
           CASE WHEN EXISTS (
               SELECT 1 FROM webhook_deliveries d
               WHERE (d.payout_id = p_payout OR d.link_id = p_link)
                 AND d.url = u AND d.endpoint_id IS NULL
                 AND d.state = 'disabled')
           THEN 'disabled' ELSE 'pending' END
    FROM unnest(p_urls) u;

    INSERT INTO webhook_deliveries (event_id, payout_id, link_id,
                                    endpoint_id, url)
    SELECT p_event, p_payout, p_link, e.id, e.url FROM webhook_endpoints e
    WHERE e.tenant_id = p_tenant AND e.livemode = p_livemode
      AND e.disabled_at IS NULL;
$$;

-- claim up to p_limit due deliveries for p_lease seconds; a delivery
-- names a payout or a payout link (links.sql), whose own webhook_urls
-- are signed with its own webhook_secret
CREATE OR REPLACE FUNCTION webhook_claim(p_limit integer, p_lease integer)
RETURNS TABLE (delivery_id bigint, url text, attempt integer,
               msg_id text, payload text, tenant_id bigint,
               secret_enc text, old_secret_enc text, plain_secret boolean)
LANGUAGE sql AS $$
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.state = 'pending' AND d.next_attempt_at <= now()
          AND (d.lease_until IS NULL OR d.lease_until < now())
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries e
              WHERE e.payout_id = d.payout_id AND e.url = d.url
                AND e.state = 'pending' AND e.id < d.id)
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries e
              WHERE e.link_id = d.link_id AND e.url = d.url
                AND e.state = 'pending' AND e.id < d.id)
        ORDER BY d.next_attempt_at, d.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE webhook_deliveries d
        SET lease_until = now() + p_lease * interval '1 second',
            attempts = d.attempts + 1
        FROM due WHERE d.id = due.id
        RETURNING d.*
    )
    SELECT c.id, c.url, c.attempts, ev.msg_id, ev.payload::text,
           ev.tenant_id,
           encode(CASE WHEN c.endpoint_id IS NULL
                       THEN coalesce(p.webhook_secret_enc,
                                     l.webhook_secret_enc)
                       ELSE we.secret_enc END, 'hex'),
           encode(CASE WHEN we.old_secret_expires_at > now()
                       THEN we.old_secret_enc END, 'hex'),
           c.endpoint_id IS NULL
    FROM claimed c
    JOIN webhook_events ev ON ev.id = c.event_id
    LEFT JOIN payouts p ON p.id = c.payout_id
    LEFT JOIN payout_links l ON l.id = c.link_id
    LEFT JOIN webhook_endpoints we ON we.id = c.endpoint_id
$$;

-- record one attempt.  p_retry_in: seconds until the next attempt, or
-- NULL when there is none left (dead); p_disable: the endpoint said 410
CREATE OR REPLACE FUNCTION webhook_result(p_id bigint, p_status integer,
    p_error text, p_retry_in integer, p_disable boolean,
    p_duration_ms integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d      webhook_deliveries;
    v_state  text;
BEGIN
    SELECT * INTO d FROM webhook_deliveries WHERE id = p_id FOR UPDATE;

    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    -- a 410 and a transition of the same payout take turns: the payout's
    -- row lock (held by payout_transition while it queues) makes either
    -- this disable see the delivery just queued, or payout_emit see the
    -- disabled URL, never neither
    IF p_disable AND d.endpoint_id IS NULL THEN
        PERFORM 1 FROM payouts WHERE id = d.payout_id FOR UPDATE;
        PERFORM 1 FROM payout_links WHERE id = d.link_id FOR UPDATE;
    END IF;

    INSERT INTO webhook_attempts (delivery_id, status_code, error,
                                  duration_ms)
    VALUES (p_id, p_status, p_error, p_duration_ms);

    IF p_status BETWEEN 200 AND 299 THEN
        v_state := 'delivered';
    ELSIF p_disable THEN
        v_state := 'disabled';
        UPDATE webhook_endpoints SET disabled_at = now()
        WHERE id = d.endpoint_id AND disabled_at IS NULL;
    ELSIF p_retry_in IS NULL THEN
        v_state := 'dead';
    ELSE
        v_state := 'pending';
    END IF;

    UPDATE webhook_deliveries SET
        state = v_state,
        last_status = p_status,
        last_error = p_error,
        lease_until = NULL,
        delivered_at = CASE WHEN v_state = 'delivered'
                            THEN now() END,
        next_attempt_at = CASE WHEN v_state = 'pending'
                               THEN now() + p_retry_in * interval '1 second'
                               ELSE next_attempt_at END
    WHERE id = p_id;

    -- a 410 stops every delivery still queued for that endpoint
    IF p_disable AND d.endpoint_id IS NOT NULL THEN
        UPDATE webhook_deliveries SET state = 'disabled', lease_until = NULL
        WHERE endpoint_id = d.endpoint_id AND state = 'pending';
    ELSIF p_disable THEN
        UPDATE webhook_deliveries SET state = 'disabled', lease_until = NULL
        WHERE (payout_id = d.payout_id OR link_id = d.link_id)
          AND url = d.url AND state = 'pending';
    END IF;

    RETURN v_state;
END
$$;

-- GET /payouts/{uuid}/webhooks
CREATE OR REPLACE FUNCTION webhook_deliveries_json(p_tenant bigint,
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
CREATE OR REPLACE FUNCTION webhook_redeliver(p_tenant bigint,
    p_livemode boolean, p_uuid uuid, p_delivery bigint)
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

CREATE OR REPLACE FUNCTION webhook_endpoint_create(p_tenant bigint,
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
CREATE OR REPLACE FUNCTION webhook_endpoint_rotate(p_tenant bigint,
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

CREATE OR REPLACE FUNCTION webhook_endpoint_disable(p_tenant bigint,
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

CREATE OR REPLACE FUNCTION webhook_endpoints_json(p_tenant bigint,
                                                  p_livemode boolean)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object('data', coalesce(json_agg(
        webhook_endpoint_json(e) ORDER BY e.id), '[]'::json))
    FROM webhook_endpoints e
    WHERE e.tenant_id = p_tenant AND e.livemode = p_livemode
$$;
