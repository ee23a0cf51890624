-- Operations (issue 11): a payout pending past payout_reconcile_window is
-- logged once, so the row remembers when; the metrics' gauges and
-- payoutctl status count pending payouts by gateway and dead deliveries
-- at every scrape, through these partial indexes.
ALTER TABLE payouts ADD COLUMN stuck_logged_at timestamptz;

CREATE INDEX payouts_pending_gateway ON payouts (gateway, created_at)
    WHERE status = 'pending';

CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (id)
    WHERE state = 'dead';
