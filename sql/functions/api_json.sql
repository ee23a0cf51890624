-- How the API shows payouts and recipients.  One definition, used by
-- get and list alike; account numbers only ever appear masked.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

CREATE OR REPLACE FUNCTION payout_mask(last4 text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN last4 IS NULL THEN NULL ELSE '******' || last4 END
$$;

CREATE OR REPLACE FUNCTION payout_recipient_json(r recipients) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'uuid', r.uuid,
        'tenant_id', r.tenant_id,
        'gateway', r.gateway,
        'recipient_type', r.recipient_type,
        'name', r.name,
        'email', r.email,
        'phone', r.phone,
        'bank_code', r.bank_code,
        'bank_name', r.bank_name,
        'bank_account_name', r.bank_account_name,
        'bank_account_number', payout_mask(r.account_number_last4),
        'mobile_money_provider', r.mobile_money_provider,
        'mobile_money_number', payout_mask(r.mobile_money_last4),
        'account_id', r.account_id,
        'balance_id', r.balance_id,
        'country', r.country,
        'gateway_recipient_code', r.gateway_recipient_code,
        'idempotency_key', r.idempotency_key,
        'metadata', r.metadata,
        'livemode', r.livemode,
        'created_at', r.created_at,
        'updated_at', r.updated_at)
$$;

-- what the payout waits for, as the API and webhooks show it: null,
-- {"type": "otp_required"} or {"type": "redirect", "url": "..."}
CREATE OR REPLACE FUNCTION payout_next_action_json(p payouts) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p.next_action IS NULL THEN NULL
        WHEN p.next_action_url IS NOT NULL
            THEN json_build_object('type', p.next_action,
                                   'url', p.next_action_url)
        ELSE json_build_object('type', p.next_action)
        END
$$;

CREATE OR REPLACE FUNCTION payout_json(p payouts) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', p.id,
        'uuid', p.uuid,
        'tenant_id', p.tenant_id,
        'amount', p.amount,
        'currency', p.currency,
        'gateway', p.gateway,
        'status', p.status,
        'sub_status', p.sub_status,
        'narration', p.narration,
        'metadata', p.metadata,
        'idempotency_key', p.idempotency_key,
        'gateway_payout_id', p.gateway_payout_id,
        'failure_reason', p.failure_reason,
        'next_action', payout_next_action_json(p),
        'webhook_urls', p.webhook_urls,
        'livemode', p.livemode,
        'recipient_uuid', r.uuid,
        'recipient', CASE WHEN r.id IS NULL THEN NULL
                          ELSE payout_recipient_json(r) END,
        'created_at', p.created_at,
        'updated_at', p.updated_at)
    FROM (SELECT 1) one
    LEFT JOIN recipients r ON r.id = p.recipient_id
$$;
