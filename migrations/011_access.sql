-- Who may set a price, and a trail of every change to money settings (issue 13).
-- max_bid_cents: the highest standing bid a buyer account's own keys may set (NULL: no limit); set by admins.
ALTER TABLE accounts ADD COLUMN max_bid_cents bigint CHECK (max_bid_cents >= 0);
-- A campaign's payout may exceed what the buyer pays for a call only where an admin allowed it.
ALTER TABLE campaigns ADD COLUMN allow_negative_margin boolean NOT NULL DEFAULT false;

-- One row per changed field of a money setting, written in the transaction that changed it. The actor is the API
-- key that made the change (its id, role and account at the time); values are JSON (NULL: absent, or not set).
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  key_id      text NOT NULL,
  role        text NOT NULL,
  account_id  text,
  entity      text NOT NULL,
  entity_id   text NOT NULL,
  field       text NOT NULL,
  old_value   jsonb,
  new_value   jsonb
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id DESC);
