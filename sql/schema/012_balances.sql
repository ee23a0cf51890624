-- 012: a recipient may be a provider balance (issue 9, Mollie's bal_...:
-- recipient_type 'balance', balance_id), paid to the bank account
-- configured on that balance.  balance_id may be NULL: the gateway's own
-- balance= is used.
--
-- The recipient functions take balance_id as a trailing parameter with a
-- default, and payout_instruction() returns it: their former signatures
-- are dropped here, as 010 did, so that a call by name finds exactly one
-- function (sql/functions/ makes the new ones).

ALTER TABLE recipients
    DROP CONSTRAINT recipients_recipient_type_check,
    ADD CONSTRAINT recipients_recipient_type_check
        CHECK (recipient_type IN ('bank_account', 'mobile_money',
                                  'connected_account', 'balance')),
    ADD COLUMN balance_id text;

DROP FUNCTION IF EXISTS payout_recipient_upsert(bigint, boolean, text, text,
    bytea, text, text, text, text, text, text, bytea, text, text, bytea,
    text, text, jsonb, text, text);

DROP FUNCTION IF EXISTS payout_recipient_create(bigint, boolean, text, text,
    bytea, text, text, text, text, text, text, bytea, text, text, bytea,
    text, text, jsonb, text, text);

DROP FUNCTION IF EXISTS payout_create(bigint, boolean, text, bytea, bigint,
    text, text, text, jsonb, jsonb, bytea, boolean, uuid, text, bytea, text,
    text, text, text, text, text, bytea, text, text, bytea, text, text,
    text);

DROP FUNCTION IF EXISTS payout_instruction(bigint, bigint);
