-- The sandbox provider's functions, in schema sandbox.  The names in
-- their bodies are schema-qualified: a function body resolves names by
-- the caller's search_path, which need not include sandbox.
--
-- A functions file holds the current definition of its functions, each
-- once, as CREATE OR REPLACE; payoutctl migrate applies it again whenever
-- it changes.  See docs/payoutctl.md.

CREATE OR REPLACE FUNCTION sandbox.sandbox_time(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;


CREATE OR REPLACE FUNCTION sandbox.sandbox_transfer_json(
    t sandbox.sandbox_transfers)
RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', 'sbx_tr_' || t.id,
        'reference', t.reference,
        'status', t.status,
        'amount', t.amount,
        'currency', t.currency,
        'failure_reason', t.failure_reason,
        'destination', json_build_object('type', t.destination_type,
                                         'last4', t.destination_last4),
        'narration', t.narration,
        'created_at', sandbox.sandbox_time(t.created_at),
        'updated_at', sandbox.sandbox_time(t.updated_at))
$$;


-- POST /transfers in one round trip.  The unique reference makes
-- concurrent duplicates one row: the loser of the race waits for the
-- winner's commit, inserts nothing and answers with the winner's row.

CREATE OR REPLACE FUNCTION sandbox.sandbox_transfer_create(p_reference uuid,
    p_amount bigint, p_currency text, p_type text, p_last4 text,
    p_bank_code text, p_provider text, p_narration text, p_outcome text,
    p_delay_ms bigint)
RETURNS TABLE (is_new boolean, transfer_status text, reason text,
               body json)
LANGUAGE plpgsql AS $$
DECLARE
    t      sandbox.sandbox_transfers;
    delay  interval := p_delay_ms * interval '1 millisecond';
BEGIN
    INSERT INTO sandbox.sandbox_transfers (reference, amount, currency,
        destination_type, destination_last4, bank_code, provider,
        narration, outcome, status, failure_reason)
    VALUES (p_reference, p_amount, p_currency, p_type, p_last4,
        p_bank_code, p_provider, p_narration, p_outcome,
        CASE p_outcome
            WHEN 'invalid_account' THEN 'rejected'
            WHEN 'insufficient_funds' THEN 'rejected'
            WHEN 'no_answer' THEN 'succeeded'
            ELSE 'pending' END,
        CASE p_outcome
            WHEN 'invalid_account' THEN 'invalid_account'
            WHEN 'insufficient_funds' THEN 'insufficient_funds' END)
    ON CONFLICT (reference) DO NOTHING
    RETURNING * INTO t;

    IF t.id IS NULL THEN
        SELECT * INTO STRICT t FROM sandbox.sandbox_transfers s
        WHERE s.reference = p_reference;

        RETURN QUERY SELECT false, t.status, t.failure_reason,
                            sandbox.sandbox_transfer_json(t);
        RETURN;
    END IF;

    INSERT INTO sandbox.sandbox_events (transfer_id, type, due_at)
    SELECT t.id, e.type, now() + e.after * delay
    FROM (VALUES ('succeed', 'transfer.succeeded', 1),
                 ('fail_later', 'transfer.failed', 1),
                 ('reverse', 'transfer.succeeded', 1),
                 ('reverse', 'transfer.reversed', 2))
         AS e (outcome, type, after)
    WHERE e.outcome = p_outcome;

    RETURN QUERY SELECT true, t.status, t.failure_reason,
                        sandbox.sandbox_transfer_json(t);
END
$$;


-- POST /transfers/{reference}/cancel: no row when the reference is
-- unknown; otherwise the transfer as it is now (canceled if it could be).

CREATE OR REPLACE FUNCTION sandbox.sandbox_transfer_cancel(p_reference uuid)
RETURNS TABLE (transfer_status text, body json)
LANGUAGE plpgsql AS $$
DECLARE
    t  sandbox.sandbox_transfers;
BEGIN
    UPDATE sandbox.sandbox_transfers s
    SET status = 'canceled', updated_at = now()
    WHERE s.reference = p_reference AND s.status = 'pending'
    RETURNING * INTO t;

    IF FOUND THEN
        DELETE FROM sandbox.sandbox_events e WHERE e.transfer_id = t.id;
    ELSE
        SELECT * INTO t FROM sandbox.sandbox_transfers s
        WHERE s.reference = p_reference;

        IF NOT FOUND THEN
            RETURN;
        END IF;
    END IF;

    RETURN QUERY SELECT t.status, sandbox.sandbox_transfer_json(t);
END
$$;


-- The event sender's one statement per tick.
--
-- 1. Events that are due change their transfer's status, in order per
--    transfer (an event waits while an earlier one of its transfer is
--    not applied).  The event and its transfer are locked with SKIP
--    LOCKED, so this never waits: not for another worker or node doing
--    the same, nor for a cancel in progress (which then sees the new
--    status and answers 409).  An event whose transfer is no longer in
--    the status it expects is dropped.
--
-- 2. Applied events are leased for delivery, at most p_limit, each only
--    once every earlier event of its transfer is delivered, so a
--    receiver sees succeeded before reversed.  The lease keeps other
--    workers and nodes off the event while this one sends it.  Without a
--    webhook URL (p_deliver false) applied events are simply dropped.

CREATE OR REPLACE FUNCTION sandbox.sandbox_events_claim(p_limit integer,
    p_deliver boolean)
RETURNS TABLE (event_id bigint, event_type text, created bigint,
               attempt integer, body json)
LANGUAGE plpgsql AS $$
DECLARE
    ev  record;
    t   sandbox.sandbox_transfers;
BEGIN
    FOR ev IN
        SELECT e.id, e.type, e.transfer_id
        FROM sandbox.sandbox_events e
        JOIN sandbox.sandbox_transfers s ON s.id = e.transfer_id
        WHERE e.applied_at IS NULL
          AND e.due_at <= now()
          AND NOT EXISTS (SELECT 1 FROM sandbox.sandbox_events p
                          WHERE p.transfer_id = e.transfer_id
                            AND p.applied_at IS NULL
                            AND (p.due_at, p.id) < (e.due_at, e.id))
        ORDER BY e.due_at, e.id
        LIMIT 100
        FOR UPDATE OF e, s SKIP LOCKED
    LOOP
        UPDATE sandbox.sandbox_transfers s
        SET status = CASE ev.type
                         WHEN 'transfer.succeeded' THEN 'succeeded'
                         WHEN 'transfer.failed' THEN 'failed'
                         ELSE 'reversed' END,
            failure_reason = CASE ev.type
                         WHEN 'transfer.failed' THEN 'account_closed'
                         WHEN 'transfer.reversed' THEN 'returned_by_bank'
                         END,
            updated_at = now()
        WHERE s.id = ev.transfer_id
          AND s.status = CASE ev.type
                             WHEN 'transfer.reversed' THEN 'succeeded'
                             ELSE 'pending' END
        RETURNING * INTO t;

        IF FOUND THEN
            UPDATE sandbox.sandbox_events e
            SET applied_at = now(), data = sandbox.sandbox_transfer_json(t)
            WHERE e.id = ev.id;
        ELSE
            DELETE FROM sandbox.sandbox_events e WHERE e.id = ev.id;
        END IF;
    END LOOP;

    IF NOT p_deliver THEN
        DELETE FROM sandbox.sandbox_events e
        WHERE e.id IN (SELECT c.id FROM sandbox.sandbox_events c
                       WHERE c.applied_at IS NOT NULL
                       FOR UPDATE SKIP LOCKED);
        RETURN;
    END IF;

    RETURN QUERY
    UPDATE sandbox.sandbox_events e
    SET lease_until = now() + interval '30 seconds',
        attempts = e.attempts + 1
    WHERE e.id IN (
        SELECT c.id FROM sandbox.sandbox_events c
        WHERE c.applied_at IS NOT NULL
          AND (c.lease_until IS NULL OR c.lease_until < now())
          AND NOT EXISTS (SELECT 1 FROM sandbox.sandbox_events p
                          WHERE p.transfer_id = c.transfer_id
                            AND (p.due_at, p.id) < (c.due_at, c.id))
        ORDER BY c.due_at, c.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED)
    RETURNING e.id, e.type, extract(epoch FROM e.applied_at)::bigint,
              e.attempts, e.data;
END
$$;


-- A delivery failed: try again after 1, 2, 4 ... seconds, at most a
-- minute apart.
CREATE OR REPLACE FUNCTION sandbox.sandbox_event_retry(p_id bigint)
RETURNS void
LANGUAGE sql AS $$
    UPDATE sandbox.sandbox_events
    SET lease_until = now() + least(interval '1 second'
                                    * power(2, least(attempts, 7) - 1),
                                    interval '60 seconds')
    WHERE id = p_id
$$;
