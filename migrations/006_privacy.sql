-- GDPR erasures: which number (by its hash only), why, and who asked. The hash is the one erased rows now carry.
CREATE TABLE privacy_erasures (
  id          bigserial PRIMARY KEY,
  number_hash text NOT NULL,
  reason      text NOT NULL,
  actor       text NOT NULL,
  counts      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
