-- Recipients: create-or-reuse by fingerprint, within the key's mode.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- create-or-reuse a recipient by its fingerprint, within the mode
CREATE OR REPLACE FUNCTION payout_recipient_upsert(
    p_tenant bigint, p_livemode boolean, p_gateway text, p_type text,
    p_fingerprint bytea, p_name text, p_email text, p_phone text,
    p_bank_code text, p_bank_name text, p_bank_account_name text,
    p_account_enc bytea, p_account_last4 text, p_mm_provider text,
    p_mm_enc bytea, p_mm_last4 text, p_idempotency_key text,
    p_metadata jsonb, p_account_id text DEFAULT NULL,
    p_country text DEFAULT NULL, p_balance_id text DEFAULT NULL,
    OUT r_id bigint, OUT r_created boolean)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO recipients (tenant_id, livemode, gateway, recipient_type,
        fingerprint, name, email, phone, bank_code, bank_name,
        bank_account_name, account_number_enc, account_number_last4,
        mobile_money_provider, mobile_money_number_enc, mobile_money_last4,
        idempotency_key, metadata, account_id, country, balance_id)
    VALUES (p_tenant, p_livemode, p_gateway, p_type, p_fingerprint, p_name,
        p_email, p_phone, p_bank_code, p_bank_name, p_bank_account_name,
        p_account_enc, p_account_last4, p_mm_provider, p_mm_enc, p_mm_last4,
        p_idempotency_key, p_metadata, p_account_id, p_country,
        p_balance_id)
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

-- POST /payout-recipients.  outcome: created | existing | conflict
CREATE OR REPLACE FUNCTION payout_recipient_create(
    p_tenant bigint, p_livemode boolean, p_gateway text, p_type text,
    p_fingerprint bytea, p_name text, p_email text, p_phone text,
    p_bank_code text, p_bank_name text, p_bank_account_name text,
    p_account_enc bytea, p_account_last4 text, p_mm_provider text,
    p_mm_enc bytea, p_mm_last4 text, p_idempotency_key text,
    p_metadata jsonb, p_account_id text DEFAULT NULL,
    p_country text DEFAULT NULL, p_balance_id text DEFAULT NULL)
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
        p_mm_enc, p_mm_last4, p_idempotency_key, p_metadata, p_account_id,
        p_country, p_balance_id) u;

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
