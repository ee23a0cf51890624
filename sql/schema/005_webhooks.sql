-- 005: delivering the outbox (the functions are in functions/webhooks.sql).
-- A delivery waits while an earlier event of the same payout to the same
-- URL is still pending, so merchants see events in order.

CREATE INDEX IF NOT EXISTS webhook_deliveries_order
    ON webhook_deliveries (payout_id, url, id) WHERE state = 'pending';
