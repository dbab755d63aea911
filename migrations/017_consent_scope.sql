-- Consent scope and revocation (issue 14, feature 2).
-- A consent record carries its evidence (a TrustedForm or Jornaya certificate, the text the consumer was shown,
-- the consumer's IP) and an expiry: expired consent is not consent. Records from before this migration expire
-- 90 days after they were given (the default validity, CONSENT_VALIDITY_DAYS).
ALTER TABLE consent_records
  ADD COLUMN certificate_kind text CHECK (certificate_kind IN ('trustedform', 'jornaya')),
  ADD COLUMN certificate_id   text,
  ADD COLUMN consent_text     text,
  ADD COLUMN ip               inet,
  ADD COLUMN expires_at       timestamptz,
  ADD COLUMN revocation_id    bigint,
  ADD CONSTRAINT consent_certificate_pair CHECK ((certificate_kind IS NULL) = (certificate_id IS NULL));
UPDATE consent_records SET expires_at = consented_at + interval '90 days';
ALTER TABLE consent_records ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX consent_by_number ON consent_records (number) WHERE revoked_at IS NULL;

-- A consumer's "stop calling me", however it arrived: it revokes every consent the seller holds for the number,
-- on every campaign, and puts the number on the seller's internal DNC list (dnc_entries list 'seller:<id>').
CREATE TABLE consent_revocations (
  id                bigserial PRIMARY KEY,
  seller_account_id text NOT NULL REFERENCES accounts(id),
  number            text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  -- how the consumer said it
  channel           text NOT NULL CHECK (channel IN ('api', 'phone', 'sms', 'email', 'web', 'mail', 'in_person', 'other')),
  received_at       timestamptz NOT NULL,
  -- the campaign it was received on, when known
  campaign_id       text REFERENCES campaigns(id),
  detail            text NOT NULL DEFAULT '',
  records_revoked   integer NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_revocations_lookup ON consent_revocations (seller_account_id, number);

-- Outbound marketing calls require consent unless an admin exempts the campaign (e.g. calls to existing customers
-- on a non-marketing subject); inbound calls need it only when require_consent is set.
ALTER TABLE campaigns ADD COLUMN outbound_consent_exempt boolean NOT NULL DEFAULT false;
