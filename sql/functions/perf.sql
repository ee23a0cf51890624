-- payout_create() and, for a payout it created to send, the instruction
-- the send needs (payout_instruction(), in the gateway's order: see
-- ngx_http_payout_gateway.h), in one round trip: the create path of
-- POST /payouts makes two on the gateway side, this and the transition
-- (issue 12).  The instruction's columns are NULL when nothing is to be
-- sent (an existing or staged payout, a refusal).
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

CREATE OR REPLACE FUNCTION payout_create_send(
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
RETURNS TABLE (i_payout_uuid uuid, i_amount bigint, i_currency text,
               i_gateway text, i_narration text, i_sub_status text,
               i_recipient_type text, i_account_number_enc text,
               i_bank_code text, i_bank_account_name text,
               i_mobile_money_number_enc text,
               i_mobile_money_provider text, i_recipient_name text,
               i_recipient_uuid uuid, i_gateway_recipient_code text,
               i_account_id text, i_country text, i_balance_id text,
               i_recipient_id bigint,
               outcome text, payout_id bigint, payout_uuid uuid,
               recipient_uuid uuid, sub_status text,
               gateway_payout_id text, failure_reason text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    c      record;
BEGIN
    SELECT * INTO c FROM payout_create(
        p_tenant => p_tenant, p_livemode => p_livemode,
        p_idempotency_key => p_idempotency_key,
        p_request_hash => p_request_hash, p_amount => p_amount,
        p_currency => p_currency, p_gateway => p_gateway,
        p_narration => p_narration, p_metadata => p_metadata,
        p_webhook_urls => p_webhook_urls,
        p_webhook_secret_enc => p_webhook_secret_enc, p_stage => p_stage,
        p_recipient_uuid => p_recipient_uuid, p_type => p_type,
        p_fingerprint => p_fingerprint, p_name => p_name,
        p_email => p_email, p_phone => p_phone, p_bank_code => p_bank_code,
        p_bank_name => p_bank_name,
        p_bank_account_name => p_bank_account_name,
        p_account_enc => p_account_enc, p_account_last4 => p_account_last4,
        p_mm_provider => p_mm_provider, p_mm_enc => p_mm_enc,
        p_mm_last4 => p_mm_last4, p_account_id => p_account_id,
        p_country => p_country, p_balance_id => p_balance_id);

    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- a statement of its own: it sees the rows payout_create() wrote
    RETURN QUERY
    SELECT i.payout_uuid, i.amount, i.currency, i.gateway, i.narration,
           i.sub_status, i.recipient_type, i.account_number_enc,
           i.bank_code, i.bank_account_name, i.mobile_money_number_enc,
           i.mobile_money_provider, i.recipient_name, i.recipient_uuid,
           i.gateway_recipient_code, i.account_id, i.country, i.balance_id,
           p.recipient_id,
           c.outcome, c.payout_id, c.payout_uuid, c.recipient_uuid,
           c.sub_status, c.gateway_payout_id, c.failure_reason
    FROM (SELECT 1) one
    LEFT JOIN payout_instruction(p_tenant => p_tenant, p_id => c.payout_id) i
           ON c.outcome = 'created' AND NOT p_stage
    LEFT JOIN payouts p ON p.id = i.payout_id;
END
$$;
