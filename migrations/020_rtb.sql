-- Real-time bidding (issue 15): a buyer target may carry an RTB endpoint the exchange pings at decision time,
-- instead of (bid_cents 0) or beside a standing bid. A valid answer replaces the target's standing bid for that
-- call; the answer's amount must lie within [rtb_min_bid_cents, rtb_max_bid_cents] (NULL: no bound).
ALTER TABLE buyer_targets ADD COLUMN rtb_url text CHECK (rtb_url ~ '^https?://' AND length(rtb_url) <= 2000);
ALTER TABLE buyer_targets ADD COLUMN rtb_min_bid_cents bigint CHECK (rtb_min_bid_cents >= 0);
ALTER TABLE buyer_targets ADD COLUMN rtb_max_bid_cents bigint CHECK (rtb_max_bid_cents >= 0);
ALTER TABLE buyer_targets ADD CONSTRAINT buyer_targets_rtb_bounds CHECK (rtb_min_bid_cents IS NULL OR rtb_max_bid_cents IS NULL OR rtb_min_bid_cents <= rtb_max_bid_cents);
-- The call facts a campaign lets the exchange share with RTB buyers in a ping (besides the campaign id and tmax):
-- any of areaCode, callerHash, state, zip, localTime, attestation, repeatCaller. Nothing by default.
ALTER TABLE campaigns ADD COLUMN rtb_share jsonb NOT NULL DEFAULT '[]';
