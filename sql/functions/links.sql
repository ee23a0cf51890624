-- Hosted payout links (issue 10), one round trip each.  The API creates,
-- shows, lists and cancels them; the page (/pay/{token}) reads one by
-- its token's hash (payout_link_page) and claims it (payout_link_claim),
-- which makes the payout through payout_create() itself, with an
-- idempotency key derived from the link, in the transaction that marks
-- the link claimed.  Reads go through payout_links_v, where an open link
-- past expires_at is expired; whoever first moves such a row (the
-- expiry job, a cancel, a claim) marks it and queues payout_link.expired.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- a link as the API shows it: never the token nor its hash
CREATE OR REPLACE FUNCTION payout_link_json(l payout_links_v) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', l.id,
        'link_uuid', l.uuid,
        'tenant_id', l.tenant_id,
        'status', l.status,
        'amount', l.amount,
        'currency', l.currency,
        'gateway', l.gateway,
        'expires_at', l.expires_at,
        'narration', l.narration,
        'name', l.name,
        'email', l.email,
        'phone', l.phone,
        'methods', l.methods,
        'metadata', l.metadata,
        'webhook_urls', l.webhook_urls,
        'idempotency_key', l.idempotency_key,
        'livemode', l.livemode,
        'payout_uuid', p.uuid,
        'payout_status', p.status,
        'created_at', l.created_at,
        'updated_at', l.updated_at,
        'claimed_at', l.claimed_at,
        'canceled_at', l.canceled_at,
        'expired_at', l.expired_at)
    FROM (SELECT 1) one
    LEFT JOIN payouts p ON p.id = l.payout_id
$$;

-- the merchant-facing event for one link, as its webhook carries it
CREATE OR REPLACE FUNCTION payout_link_event_payload(l payout_links,
    event_type text, msg_id text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'webhook_type', 'payout_link',
        'event_type', event_type,
        'event_id', msg_id,
        'link_uuid', l.uuid,
        'status', l.status,
        'amount', l.amount,
        'currency', l.currency,
        'gateway', l.gateway,
        'expires_at', l.expires_at,
        'payout_uuid', (SELECT p.uuid FROM payouts p
                        WHERE p.id = l.payout_id),
        'metadata', l.metadata,
        'livemode', l.livemode,
        'timestamp', to_char(now() AT TIME ZONE 'UTC',
                             'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;

-- queue one link event: to the link's webhook_urls (signed with its
-- webhook_secret) and to the tenant's endpoints of the link's mode
CREATE OR REPLACE FUNCTION payout_link_emit(l payout_links, p_event text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    msg text := 'msg_' || replace(gen_random_uuid()::text, '-', '');
    ev  bigint;
BEGIN
    INSERT INTO webhook_events (msg_id, tenant_id, link_id, event_type,
                                payload)
    VALUES (msg, l.tenant_id, l.id, p_event,
            payout_link_event_payload(l, p_event, msg))
    RETURNING id INTO ev;

    PERFORM webhook_enqueue(ev, l.tenant_id, l.livemode, NULL, l.id,
                            l.webhook_urls);

    PERFORM pg_notify('payout_webhooks', ev::text);
END
$$;

-- mark one locked open link expired and queue payout_link.expired
CREATE OR REPLACE FUNCTION payout_link_expire(p_id bigint)
RETURNS payout_links LANGUAGE plpgsql AS $$
DECLARE
    l  payout_links;
BEGIN
    UPDATE payout_links SET status = 'expired', expired_at = now(),
                            updated_at = now()
    WHERE id = p_id AND status = 'open' AND expires_at <= now()
    RETURNING * INTO l;

    IF FOUND THEN
        PERFORM payout_link_emit(l, 'payout_link.expired');
    END IF;

    RETURN l;
END
$$;

-- lock one link, marking it expired first if it is due: what a cancel
-- and a claim decide on
CREATE OR REPLACE FUNCTION payout_link_lock(p_id bigint)
RETURNS payout_links LANGUAGE plpgsql AS $$
DECLARE
    l  payout_links;
BEGIN
    SELECT * INTO l FROM payout_links WHERE id = p_id FOR UPDATE;

    IF FOUND AND l.status = 'open' AND l.expires_at <= now() THEN
        l := payout_link_expire(l.id);
    END IF;

    RETURN l;
END
$$;

-- POST /payout-links.  outcome: created | existing | conflict; body is
-- the link's JSON (for conflict, the existing link's).  The idempotency
-- key is looked up in the key's mode only.
CREATE OR REPLACE FUNCTION payout_link_create(
    p_tenant bigint, p_livemode boolean, p_idempotency_key text,
    p_request_hash bytea, p_token_hash bytea, p_amount bigint,
    p_currency text, p_gateway text, p_expires_at timestamptz,
    p_name text, p_email text, p_phone text, p_methods text[],
    p_narration text, p_metadata jsonb, p_webhook_urls jsonb,
    p_webhook_secret_enc bytea)
RETURNS TABLE (outcome text, body json)
LANGUAGE plpgsql AS $$
DECLARE
    l  payout_links;
BEGIN
    INSERT INTO payout_links (tenant_id, livemode, token_hash, amount,
        currency, gateway, expires_at, name, email, phone, methods,
        narration, metadata, webhook_urls, webhook_secret_enc,
        idempotency_key, request_hash)
    VALUES (p_tenant, p_livemode, p_token_hash, p_amount, p_currency,
        p_gateway, p_expires_at, p_name, p_email, p_phone, p_methods,
        p_narration, p_metadata,
        ARRAY(SELECT jsonb_array_elements_text(
                  coalesce(p_webhook_urls, '[]'::jsonb))),
        p_webhook_secret_enc, p_idempotency_key, p_request_hash)
    ON CONFLICT (tenant_id, livemode, idempotency_key) DO NOTHING
    RETURNING * INTO l;

    IF l.id IS NOT NULL THEN
        RETURN QUERY SELECT 'created'::text, payout_link_json(v)
            FROM payout_links_v v WHERE v.id = l.id;
        RETURN;
    END IF;

    RETURN QUERY SELECT
        CASE WHEN v.request_hash = p_request_hash
             THEN 'existing' ELSE 'conflict' END,
        payout_link_json(v)
    FROM payout_links_v v
    WHERE v.tenant_id = p_tenant AND v.livemode = p_livemode
      AND v.idempotency_key = p_idempotency_key;
END
$$;

-- GET /payout-links/{uuid}
CREATE OR REPLACE FUNCTION payout_link_get_json(p_tenant bigint,
    p_livemode boolean, p_uuid uuid)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT payout_link_json(v) FROM payout_links_v v
    WHERE v.tenant_id = p_tenant AND v.livemode = p_livemode
      AND v.uuid = p_uuid
$$;

-- GET /payout-links: the list engine (ngx_http_payout_list.c) renders
-- FROM payout_links_v p with payout_link_list_json(p) per row
CREATE OR REPLACE FUNCTION payout_link_list_json(l payout_links_v)
RETURNS json LANGUAGE sql STABLE AS $$
    SELECT payout_link_json(l)
$$;

-- POST /payout-links/{uuid}/cancel.  outcome: canceled | not_found |
-- claimed | expired | already_canceled; body is the link's JSON
CREATE OR REPLACE FUNCTION payout_link_cancel(p_tenant bigint,
    p_livemode boolean, p_uuid uuid)
RETURNS TABLE (outcome text, body json)
LANGUAGE plpgsql AS $$
DECLARE
    l  payout_links;
BEGIN
    l := payout_link_lock((SELECT k.id FROM payout_links k
                           WHERE k.tenant_id = p_tenant
                             AND k.livemode = p_livemode
                             AND k.uuid = p_uuid));

    IF l.id IS NULL THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::json;
        RETURN;
    END IF;

    IF l.status = 'open' THEN
        UPDATE payout_links SET status = 'canceled', canceled_at = now(),
                                updated_at = now()
        WHERE id = l.id;
    END IF;

    RETURN QUERY SELECT
        CASE l.status WHEN 'open' THEN 'canceled'
                      WHEN 'canceled' THEN 'already_canceled'
                      ELSE l.status END,
        payout_link_json(v)
    FROM payout_links_v v WHERE v.id = l.id;
END
$$;

-- the expiry job: mark up to p_limit due open links expired, each with
-- its payout_link.expired event; links another transaction holds (a
-- claim, a cancel) are left to it or to the next run
CREATE OR REPLACE FUNCTION payout_link_expire_due(p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    lid  bigint;
    n    integer := 0;
BEGIN
    FOR lid IN
        SELECT id FROM payout_links
        WHERE status = 'open' AND expires_at <= now()
        ORDER BY expires_at, id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    LOOP
        PERFORM payout_link_expire(lid);
        n := n + 1;
    END LOOP;

    RETURN n;
END
$$;

-- GET /pay/{token}: the link and, once claimed, its payout
CREATE OR REPLACE FUNCTION payout_link_page(p_token_hash bytea)
RETURNS TABLE (link_id bigint, link_uuid uuid, status text,
               tenant_name text, display_name text, amount bigint,
               currency text, gateway text, livemode boolean,
               narration text, name text, email text, phone text,
               methods text[], expires_at timestamptz, payout_uuid uuid,
               payout_status text, payout_sub_status text,
               failure_reason text)
LANGUAGE sql STABLE AS $$
    SELECT v.id, v.uuid, v.status, t.name, t.display_name, v.amount,
           v.currency::text, v.gateway, v.livemode, v.narration, v.name,
           v.email, v.phone, v.methods, v.expires_at, p.uuid, p.status,
           p.sub_status, p.failure_reason
    FROM payout_links_v v
    JOIN tenants t ON t.id = v.tenant_id
    LEFT JOIN payouts p ON p.id = v.payout_id
    WHERE v.token_hash = p_token_hash
$$;

-- POST /pay/{token}.  outcome: created | existing (already claimed by
-- this link: its payout) | expired | canceled | not_found.  The link is
-- locked, so of two concurrent claims one creates the payout and the
-- other finds it.  The payout is payout_create()'s own: recipient
-- create-or-reuse, history, payout.pending_created to the link's
-- webhook_urls, with the link's amount, currency, gateway, narration,
-- metadata, webhook_urls and secret, and 'link:' || uuid as its
-- idempotency key.  The caller checks p_type against the link's methods
-- first; a type the link does not allow is an error here, nothing made.
CREATE OR REPLACE FUNCTION payout_link_claim(p_token_hash bytea,
    p_type text, p_fingerprint bytea, p_name text, p_email text,
    p_phone text, p_bank_code text, p_bank_name text,
    p_bank_account_name text, p_account_enc bytea, p_account_last4 text,
    p_mm_provider text, p_mm_enc bytea, p_mm_last4 text, p_country text)
RETURNS TABLE (outcome text, payout_id bigint, payout_uuid uuid,
               tenant_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    l   payout_links;
    c   record;
BEGIN
    l := payout_link_lock((SELECT k.id FROM payout_links k
                           WHERE k.token_hash = p_token_hash));

    IF l.id IS NULL THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::bigint, NULL::uuid,
                            NULL::bigint;
        RETURN;
    END IF;

    IF l.status = 'claimed' THEN
        RETURN QUERY SELECT 'existing'::text, l.payout_id,
            (SELECT p.uuid FROM payouts p WHERE p.id = l.payout_id),
            l.tenant_id;
        RETURN;
    END IF;

    IF l.status <> 'open' THEN
        RETURN QUERY SELECT l.status, NULL::bigint, NULL::uuid,
                            l.tenant_id;
        RETURN;
    END IF;

    IF NOT (p_type = ANY (l.methods)) THEN
        RAISE EXCEPTION 'payout link % does not accept %', l.uuid, p_type
            USING ERRCODE = 'check_violation';
    END IF;

    SELECT * INTO c FROM payout_create(
        p_tenant => l.tenant_id, p_livemode => l.livemode,
        p_idempotency_key => 'link:' || l.uuid::text,
        p_request_hash => l.token_hash, p_amount => l.amount,
        p_currency => l.currency::text, p_gateway => l.gateway,
        p_narration => l.narration, p_metadata => l.metadata,
        p_webhook_urls => to_jsonb(l.webhook_urls),
        p_webhook_secret_enc => l.webhook_secret_enc, p_stage => false,
        p_recipient_uuid => NULL, p_type => p_type,
        p_fingerprint => p_fingerprint, p_name => p_name,
        p_email => p_email, p_phone => p_phone, p_bank_code => p_bank_code,
        p_bank_name => p_bank_name,
        p_bank_account_name => p_bank_account_name,
        p_account_enc => p_account_enc, p_account_last4 => p_account_last4,
        p_mm_provider => p_mm_provider, p_mm_enc => p_mm_enc,
        p_mm_last4 => p_mm_last4, p_country => p_country);

    -- the key is the link's: any other outcome is a payout the merchant
    -- made with that key by hand, and the claim must not adopt it
    IF c.outcome <> 'created' THEN
        RAISE EXCEPTION 'payout link %: idempotency key taken (%)',
            l.uuid, c.outcome USING ERRCODE = 'unique_violation';
    END IF;

    UPDATE payouts SET link_id = l.id WHERE id = c.payout_id;
    UPDATE payout_events SET source = 'link'
    WHERE payout_events.payout_id = c.payout_id;

    UPDATE payout_links SET status = 'claimed', payout_id = c.payout_id,
                            claimed_at = now(), updated_at = now()
    WHERE id = l.id
    RETURNING * INTO l;

    PERFORM payout_link_emit(l, 'payout_link.claimed');

    RETURN QUERY SELECT 'created'::text, c.payout_id, c.payout_uuid,
                        l.tenant_id;
END
$$;
