-- 013: hosted payout links (issue 10).  A merchant creates a link; the
-- recipient opens its page (payout_public_url + /pay/ + token), enters
-- bank or mobile-money details and so claims it: one payout, made by
-- payout_create() in the same transaction that marks the link claimed.
-- The token is stored only as its SHA-256 (token_hash).  001 made a
-- first, unused payout_links table; it takes its final shape here.
--
-- Link events (payout_link.claimed, payout_link.expired) go through the
-- same outbox as a payout's: webhook_events and webhook_deliveries name
-- the link (link_id) where a payout's name the payout, and a link's own
-- webhook_urls are signed with its webhook_secret like a payout's.

ALTER TABLE tenants
    ADD COLUMN display_name text
        CHECK (display_name IS NULL
               OR char_length(display_name) BETWEEN 1 AND 100);

UPDATE payout_links SET status = 'claimed' WHERE status = 'used';

ALTER TABLE payout_links
    DROP CONSTRAINT payout_links_status_check,
    ADD CONSTRAINT payout_links_status_check
        CHECK (status IN ('open', 'claimed', 'expired', 'canceled')),
    ADD COLUMN name text,
    ADD COLUMN email text,
    ADD COLUMN phone text,
    ADD COLUMN methods text[] NOT NULL
        DEFAULT '{bank_account,mobile_money}'
        CHECK (methods <@ '{bank_account,mobile_money}'::text[]
               AND cardinality(methods) > 0),
    ADD COLUMN idempotency_key text,
    -- SHA-256 of the canonical request: same key + other body is a 409
    ADD COLUMN request_hash bytea,
    ADD COLUMN payout_id bigint REFERENCES payouts(id),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN canceled_at timestamptz,
    ADD COLUMN expired_at timestamptz,
    ADD CONSTRAINT payout_links_tenant_mode_idempotency_key_key
        UNIQUE (tenant_id, livemode, idempotency_key),
    ADD CONSTRAINT payout_links_claimed_payout
        CHECK (status <> 'claimed' OR payout_id IS NOT NULL);

UPDATE payout_links SET name = recipient_hints->>'name',
                        email = recipient_hints->>'email',
                        phone = recipient_hints->>'phone'
WHERE recipient_hints IS NOT NULL;

ALTER TABLE payout_links DROP COLUMN recipient_hints;
ALTER TABLE payout_links RENAME COLUMN used_at TO claimed_at;

-- the list, within one tenant and mode; the expiry job's due links
CREATE INDEX payout_links_tenant_mode_id
    ON payout_links (tenant_id, livemode, id);
CREATE INDEX payout_links_tenant_mode_created
    ON payout_links (tenant_id, livemode, created_at);
CREATE INDEX payout_links_due ON payout_links (expires_at)
    WHERE status = 'open';
CREATE INDEX payout_links_payout ON payout_links (payout_id);
CREATE INDEX payouts_link ON payouts (link_id);

ALTER TABLE webhook_events
    ADD COLUMN link_id bigint REFERENCES payout_links(id);
ALTER TABLE webhook_deliveries
    ADD COLUMN link_id bigint REFERENCES payout_links(id);

CREATE INDEX webhook_events_link ON webhook_events (link_id);
-- also how webhook_claim() keeps a link's events in order per URL
CREATE INDEX webhook_deliveries_link ON webhook_deliveries (link_id, id);

-- What the API and the page read: an open link past expires_at reads
-- expired before the expiry job has marked it.
CREATE VIEW payout_links_v AS
    SELECT l.id, l.uuid, l.tenant_id, l.livemode, l.token_hash, l.amount,
           l.currency, l.gateway, l.narration, l.metadata, l.webhook_urls,
           l.webhook_secret_enc,
           CASE WHEN l.status = 'open' AND l.expires_at <= now()
                THEN 'expired' ELSE l.status END AS status,
           l.expires_at, l.claimed_at, l.created_at, l.name, l.email,
           l.phone, l.methods, l.idempotency_key, l.request_hash,
           l.payout_id, l.updated_at, l.canceled_at,
           CASE WHEN l.status = 'open' AND l.expires_at <= now()
                THEN l.expires_at ELSE l.expired_at END AS expired_at
    FROM payout_links l;
