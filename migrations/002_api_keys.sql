-- API keys: shown once when created, stored only as a SHA-256 hash. Each is bound to a role and, for every
-- role but admin, to the account whose data it may see and change.
CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  key_hash    text NOT NULL UNIQUE,
  role        text NOT NULL CHECK (role IN ('admin', 'seller', 'buyer', 'agent')),
  account_id  text REFERENCES accounts(id),
  label       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  CHECK (role = 'admin' OR role = 'agent' OR account_id IS NOT NULL)
);
