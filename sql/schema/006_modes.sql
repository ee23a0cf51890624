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


-- The webhook functions take the key's mode beside its tenant: the old
-- signatures go, so nothing can call them without a mode.  A new
-- database never had them (functions/webhooks.sql defines the new ones
-- after the schema files), hence IF EXISTS, and no notice about it.
SET LOCAL client_min_messages = warning;
DROP FUNCTION IF EXISTS webhook_deliveries_json(bigint, uuid);
DROP FUNCTION IF EXISTS webhook_redeliver(bigint, uuid, bigint);
DROP FUNCTION IF EXISTS webhook_endpoint_create(bigint, text, bytea);
DROP FUNCTION IF EXISTS webhook_endpoint_rotate(bigint, bigint, bytea,
                                                integer);
DROP FUNCTION IF EXISTS webhook_endpoint_disable(bigint, bigint);
DROP FUNCTION IF EXISTS webhook_endpoints_json(bigint);
