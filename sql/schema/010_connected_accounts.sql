-- 010: destinations of real providers (issue 8).  A recipient may be a
-- connected account (Stripe's acct_...: recipient_type
-- 'connected_account', account_id) and carry its country (ISO 3166-1
-- alpha-2, which Stripe needs for a bank account; a bank recipient's
-- account_id names the connected account that holds it).  A payout may
-- wait for something of the merchant, e.g. Paystack's OTP: next_action.
-- The numbers 008 and 009 stand for files of the old layout.
--
-- The recipient functions take the new fields as trailing parameters
-- with defaults, and payout_instruction() returns them: their former
-- signatures are dropped here, so a call with the former arguments
-- finds exactly one function (sql/functions/ makes the new ones).

ALTER TABLE recipients
    DROP CONSTRAINT recipients_recipient_type_check,
    ADD CONSTRAINT recipients_recipient_type_check
        CHECK (recipient_type IN ('bank_account', 'mobile_money',
                                  'connected_account')),
    ADD COLUMN account_id text,
    ADD COLUMN country text;

ALTER TABLE payouts
    ADD COLUMN next_action text;

DROP FUNCTION IF EXISTS payout_recipient_upsert(bigint, boolean, text, text,
    bytea, text, text, text, text, text, text, bytea, text, text, bytea,
    text, text, jsonb);

DROP FUNCTION IF EXISTS payout_recipient_create(bigint, boolean, text, text,
    bytea, text, text, text, text, text, text, bytea, text, text, bytea,
    text, text, jsonb);

DROP FUNCTION IF EXISTS payout_create(bigint, boolean, text, bytea, bigint,
    text, text, text, jsonb, jsonb, bytea, boolean, uuid, text, bytea, text,
    text, text, text, text, text, bytea, text, text, bytea, text);

DROP FUNCTION IF EXISTS payout_instruction(bigint, bigint);
