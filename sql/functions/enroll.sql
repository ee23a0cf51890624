-- Enrollment: a recipient's destination registered at its gateway
-- (POST /payout-recipients/{uuid}/accounts, and the send path's enroll
-- before initiate).  The gateway's code is recorded once and reused.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

-- what an enrollment needs of the recipient, within the key's mode; the
-- sealed numbers in hex, as the module opens them
CREATE OR REPLACE FUNCTION payout_recipient_enrollment(p_tenant bigint,
    p_livemode boolean, p_uuid uuid)
RETURNS TABLE (id bigint, uuid uuid, gateway text, recipient_type text,
               account_number_enc text, bank_code text,
               bank_account_name text, name text,
               mobile_money_number_enc text, mobile_money_provider text,
               account_id text, country text, gateway_recipient_code text,
               body json)
LANGUAGE sql STABLE AS $$
    SELECT r.id, r.uuid, r.gateway, r.recipient_type,
           encode(r.account_number_enc, 'hex'), r.bank_code,
           r.bank_account_name, r.name,
           encode(r.mobile_money_number_enc, 'hex'), r.mobile_money_provider,
           r.account_id,
           r.country, r.gateway_recipient_code, payout_recipient_json(r)
    FROM recipients r
    WHERE r.tenant_id = p_tenant AND r.livemode = p_livemode
      AND r.uuid = p_uuid
$$;

-- the gateway's code, recorded unless one is already: the first stays,
-- so concurrent enrollments agree on one.  The recipient by id, or by
-- uuid when p_id is NULL.  No row: no such recipient.
CREATE OR REPLACE FUNCTION payout_recipient_enrolled(p_tenant bigint,
    p_id bigint, p_uuid uuid, p_code text)
RETURNS TABLE (gateway_recipient_code text, body json)
LANGUAGE plpgsql AS $$
DECLARE
    r  recipients;
BEGIN
    UPDATE recipients
    SET gateway_recipient_code = p_code, updated_at = now()
    WHERE recipients.tenant_id = p_tenant
      AND (recipients.id = p_id
           OR (p_id IS NULL AND recipients.uuid = p_uuid))
      AND recipients.gateway_recipient_code IS NULL;

    SELECT * INTO r FROM recipients
    WHERE recipients.tenant_id = p_tenant
      AND (recipients.id = p_id
           OR (p_id IS NULL AND recipients.uuid = p_uuid));

    IF FOUND THEN
        RETURN QUERY SELECT r.gateway_recipient_code,
                            payout_recipient_json(r);
    END IF;
END
$$;
