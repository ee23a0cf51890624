-- 001: the whole data model of SPEC §5-§10.  Later migrations add to it.
-- Money is bigint minor units; secrets are stored as AES-256-GCM blobs
-- (nonce || ciphertext || tag) or as SHA-256 hashes, never in clear.

CREATE TABLE tenants (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE
                    CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- key_prefix ("sk_test_" + 8 chars) is what we look a key up by and what
-- operators see; key_hash (SHA-256 of the whole key) is compared in
-- constant time by the module, so no index ever orders by a secret.
CREATE TABLE api_keys (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    mode            text NOT NULL CHECK (mode IN ('test', 'live')),
    key_prefix      text NOT NULL UNIQUE,
    key_hash        bytea NOT NULL CHECK (length(key_hash) = 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE recipients (
    id                      bigserial PRIMARY KEY,
    uuid                    uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    tenant_id               bigint NOT NULL REFERENCES tenants(id),
    livemode                boolean NOT NULL DEFAULT false,
    gateway                 text NOT NULL,
    recipient_type          text NOT NULL
                            CHECK (recipient_type IN ('bank_account',
                                                      'mobile_money')),
    name                    text,
    email                   text,
    phone                   text,
    bank_code               text,
    bank_name               text,
    bank_account_name       text,
    account_number_enc      bytea,
    account_number_last4    text,
    mobile_money_provider   text,
    mobile_money_number_enc bytea,
    mobile_money_last4      text,
    -- HMAC of tenant + gateway + normalised details: create-or-reuse key
    fingerprint             bytea NOT NULL,
    gateway_recipient_code  text,
    idempotency_key         text,
    metadata                jsonb,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, fingerprint),
    UNIQUE (tenant_id, idempotency_key)
);

CREATE TABLE payout_links (
    id              bigserial PRIMARY KEY,
    uuid            uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    livemode        boolean NOT NULL DEFAULT false,
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        char(3) NOT NULL,
    gateway         text NOT NULL,
    recipient_hints jsonb,
    narration       text,
    metadata        jsonb,
    webhook_urls    text[],
    webhook_secret_enc bytea,
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'used', 'expired', 'canceled')),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payouts (
    id                  bigserial PRIMARY KEY,
    uuid                uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    tenant_id           bigint NOT NULL REFERENCES tenants(id),
    recipient_id        bigint REFERENCES recipients(id),
    link_id             bigint REFERENCES payout_links(id),
    livemode            boolean NOT NULL DEFAULT false,
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            char(3) NOT NULL,
    gateway             text NOT NULL,
    status              text NOT NULL
                        CHECK (status IN ('pending', 'success', 'canceled')),
    sub_status          text NOT NULL
                        CHECK (sub_status IN ('pending_staged',
                            'pending_created', 'pending_promise', 'success',
                            'canceled_failure', 'canceled_rejected',
                            'canceled_timeout', 'canceled_voided',
                            'canceled_reversed')),
    CHECK (sub_status = status OR sub_status LIKE status || '\_%'),
    narration           text,
    metadata            jsonb,
    idempotency_key     text,
    -- SHA-256 of the canonical request: same key + other body is a 409
    request_hash        bytea,
    gateway_payout_id   text,
    failure_reason      text,
    webhook_urls        text[],
    webhook_secret_enc  bytea,
    -- reconciler bookkeeping
    provider_attempts   integer NOT NULL DEFAULT 0,
    next_check_at       timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX payouts_tenant_id ON payouts (tenant_id, id);
CREATE INDEX payouts_tenant_created ON payouts (tenant_id, created_at);
CREATE INDEX payouts_in_flight ON payouts (next_check_at)
    WHERE status = 'pending' AND sub_status <> 'pending_staged';

-- append-only history: one row per accepted transition
CREATE TABLE payout_events (
    id              bigserial PRIMARY KEY,
    payout_id       bigint NOT NULL REFERENCES payouts(id),
    from_sub_status text,
    to_sub_status   text NOT NULL,
    source          text NOT NULL
                    CHECK (source IN ('api', 'provider', 'webhook',
                                      'reconciler', 'link')),
    detail          jsonb,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payout_events_payout ON payout_events (payout_id, id);

-- per-tenant default endpoints; two active secrets during rotation
CREATE TABLE webhook_endpoints (
    id              bigserial PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    url             text NOT NULL,
    secret_enc      bytea NOT NULL,
    old_secret_enc  bytea,
    old_secret_expires_at timestamptz,
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- the outbox: written in the same transaction as the status change
CREATE TABLE webhook_events (
    id              bigserial PRIMARY KEY,
    msg_id          text NOT NULL UNIQUE,       -- webhook-id, stable
    tenant_id       bigint NOT NULL REFERENCES tenants(id),
    payout_id       bigint REFERENCES payouts(id),
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES webhook_events(id),
    payout_id       bigint REFERENCES payouts(id),
    endpoint_id     bigint REFERENCES webhook_endpoints(id),
    url             text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead',
                                     'disabled')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_payout ON webhook_deliveries (payout_id, id);

CREATE TABLE webhook_attempts (
    id              bigserial PRIMARY KEY,
    delivery_id     bigint NOT NULL REFERENCES webhook_deliveries(id),
    status_code     integer,
    error           text,
    duration_ms     integer,
    created_at      timestamptz NOT NULL DEFAULT now()
);
