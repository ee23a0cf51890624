-- 011: a provider's webhook may name a payout only by the provider's id
-- (a Stripe event without our metadata): the hook finds it by gateway,
-- mode and gateway_payout_id, through this index rather than a scan.
CREATE INDEX payouts_gateway_payout_id
    ON payouts (gateway, livemode, gateway_payout_id)
    WHERE gateway_payout_id IS NOT NULL;
