-- Signed webhooks (issue 15, "Post"): an account's endpoints and the events each subscribes to, the account's signing
-- secret, and every delivery with its state, so the API can show what was sent, what failed and what is dead.

-- One secret per account, used to sign every webhook sent to it (HMAC-SHA256). Unlike an API key it cannot be
-- stored as a hash: the exchange must produce the HMAC itself on every delivery, so it needs the secret. It is
-- stored encrypted (AES-256-GCM, `enc:v1:...`) when WEBHOOK_SECRET_KEY is set, else as `plain:<secret>`.
CREATE TABLE webhook_secrets (
  account_id  text PRIMARY KEY REFERENCES accounts(id),
  secret      text NOT NULL,
  -- the first characters of the secret, to tell secrets apart without showing them
  hint        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  rotated_at  timestamptz,
  -- after a rotation that keeps it for a while: the previous secret (sealed the same way), which also signs every
  -- delivery until previous_until, so receivers can switch to the new one without refusing a delivery
  previous_secret text,
  previous_until  timestamptz
);

CREATE TABLE webhook_endpoints (
  id          text PRIMARY KEY,
  account_id  text NOT NULL REFERENCES accounts(id),
  url         text NOT NULL CHECK (url ~ '^https?://'),
  events      text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY['call.bridged', 'call.ended']::text[]),
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_account ON webhook_endpoints (account_id) WHERE active;

-- One row per (event, endpoint). `body` is the exact JSON sent (the receiving account's own view of the call),
-- so every retry and a redelivery send the same bytes with the same event id.
CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  event_id         text NOT NULL,
  event_type       text NOT NULL,
  call_id          text NOT NULL,
  account_id       text NOT NULL REFERENCES accounts(id),
  endpoint_id      text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  url              text NOT NULL,
  body             text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'retrying', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  last_http_status integer,
  last_error       text,
  last_attempt_at  timestamptz,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, id DESC);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, id DESC) WHERE status IN ('retrying', 'dead');
