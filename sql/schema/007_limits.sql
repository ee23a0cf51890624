-- 007: nothing the API accepts may make a later write fail.  The
-- delivery-ordering index held each pending delivery's whole URL, and a
-- btree entry cannot exceed about 2.7 kB: one long URL made every later
-- state change of its tenant fail.  Pending deliveries of one payout are
-- few, so the index needs no URL at all: webhook_claim() finds the
-- earlier pending ones by payout and compares their URLs in the heap.

DROP INDEX IF EXISTS webhook_deliveries_order;

CREATE INDEX IF NOT EXISTS webhook_deliveries_order_payout
    ON webhook_deliveries (payout_id, id) WHERE state = 'pending';
