-- Sellers' pings (POST /rtb/ping, issue 15): every bid the exchange issued to a seller, what it reserved and, once a
-- call claimed it, which call. A zero bid (rejectReason) is counted, not stored.
CREATE TABLE rtb_seller_bids (
  id                 text PRIMARY KEY,
  seller_account_id  text NOT NULL REFERENCES accounts(id),
  campaign_id        text NOT NULL REFERENCES campaigns(id),
  caller_e164        text,             -- null: the seller pinged without a caller id (an informational bid, nothing reserved)
  zip                text,
  state              text,
  tags               jsonb NOT NULL DEFAULT '{}',
  tracking_number    text NOT NULL,    -- the number the call must arrive on
  target_id          text NOT NULL,
  buyer_account_id   text NOT NULL,
  price_cents        bigint NOT NULL,  -- what the buyer pays for the call (the auction's price at the ping)
  payout_cents       bigint NOT NULL,  -- what the seller was quoted (bidAmountCents): its payout at that price
  reserved           boolean NOT NULL, -- the buyer's caps and funds are held for the call until expires_at
  issued_at          timestamptz NOT NULL,
  expires_at         timestamptz NOT NULL,
  claimed_call_id    text,             -- the call that arrived on the number with the caller id before expiry
  claimed_at         timestamptz
);
CREATE INDEX rtb_seller_bids_seller ON rtb_seller_bids (seller_account_id, issued_at DESC);
CREATE INDEX rtb_seller_bids_call ON rtb_seller_bids (claimed_call_id) WHERE claimed_call_id IS NOT NULL;

-- Per seller overrides of the ping rate limits (RTB_SELLER_PINGS_PER_MINUTE/_HOUR/_DAY); null: the default.
CREATE TABLE rtb_seller_ping_limits (
  seller_account_id  text PRIMARY KEY REFERENCES accounts(id),
  per_minute         integer CHECK (per_minute >= 0),
  per_hour           integer CHECK (per_hour >= 0),
  per_day            integer CHECK (per_day >= 0),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
