-- 001: the built-in sandbox provider (SPEC §10), a fake payment provider
-- the module serves itself.  It has nothing to do with the gateway's own
-- tables: it is "the provider's side", sharing only the database,
-- in a schema of its own: payoutctl migrate --sandbox creates it, and a
-- production database, where no sandbox is configured, has none of it.
--
-- sandbox_transfers is the provider's ledger of transfers, one row per
-- reference (our payout uuid, the provider idempotency key), so tests can
-- prove at-most-once.  sandbox_events holds each transfer's future: status
-- changes due at a time, then delivered as signed webhooks.  Only the last
-- four digits of a destination are kept: they are all the sandbox needs.

CREATE TABLE sandbox.sandbox_transfers (
    id                  bigserial PRIMARY KEY,
    reference           uuid NOT NULL UNIQUE,
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    destination_type    text NOT NULL
                        CHECK (destination_type IN ('bank_account',
                                                    'mobile_money')),
    destination_last4   text NOT NULL,
    bank_code           text,
    provider            text,
    narration           text,
    outcome             text NOT NULL
                        CHECK (outcome IN ('succeed', 'invalid_account',
                            'insufficient_funds', 'fail_later', 'reverse',
                            'no_answer', 'stay_pending')),
    status              text NOT NULL
                        CHECK (status IN ('pending', 'succeeded', 'failed',
                            'reversed', 'canceled', 'rejected')),
    failure_reason      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- applied_at: when the transfer took the event's status (at due time,
-- whether or not the webhook gets through); data: the transfer as it was
-- then, the webhook's "data".  A row lives until its webhook is delivered.
CREATE TABLE sandbox.sandbox_events (
    id                  bigserial PRIMARY KEY,
    transfer_id         bigint NOT NULL
                        REFERENCES sandbox.sandbox_transfers(id)
                        ON DELETE CASCADE,
    type                text NOT NULL
                        CHECK (type IN ('transfer.succeeded',
                                        'transfer.failed',
                                        'transfer.reversed')),
    due_at              timestamptz NOT NULL,
    applied_at          timestamptz,
    data                json,
    attempts            integer NOT NULL DEFAULT 0,
    lease_until         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_events_due ON sandbox.sandbox_events (due_at, id);
CREATE INDEX sandbox_events_transfer
    ON sandbox.sandbox_events (transfer_id, due_at, id);
