-- 014: a provider may send the receiver to a form of its own (PaynetEasy's
-- redirect-to): the payout's next_action 'redirect' with the URL here.
-- The API shows next_action as an object (sql/functions/api_json.sql).
-- payout_apply_result() takes the URL as an eighth parameter and returns
-- the next action as that object: its former form is dropped, so that a
-- call finds exactly one function (sql/functions/send.sql makes the new).

ALTER TABLE payouts
    ADD COLUMN next_action_url text
        CHECK (next_action_url IS NULL OR length(next_action_url) <= 1024);

DROP FUNCTION IF EXISTS payout_apply_result(bigint, text[], text, text, text,
    text, text);
