-- Billing: a double-entry ledger in integer cents, the rules that decide when a call is paid, and settlement.

-- The platform's own account: it keeps the margin between what buyers pay and what sellers earn.
INSERT INTO accounts (id, kind, name) VALUES ('platform', 'platform', 'Platform') ON CONFLICT (id) DO NOTHING;

-- A campaign's seller payout for a converted call: a fixed amount, or a share of what the buyer pays.
ALTER TABLE campaigns
  ADD COLUMN payout_cents          bigint CHECK (payout_cents >= 0),
  ADD COLUMN payout_percent        numeric(5,2) CHECK (payout_percent BETWEEN 0 AND 100),
  -- the same caller to the same campaign within this many days is routed but not billed (0: never a duplicate)
  ADD COLUMN duplicate_window_days integer NOT NULL DEFAULT 30 CHECK (duplicate_window_days BETWEEN 0 AND 365),
  ADD CONSTRAINT campaigns_one_payout_rule CHECK (payout_cents IS NULL OR payout_percent IS NULL);

-- One transaction per business event. `idempotency_key` makes every posting happen once: for calls it is
-- '<call id>:<kind>', for adjustments a key the caller supplies.
CREATE TABLE ledger_transactions (
  id               bigserial PRIMARY KEY,
  idempotency_key  text NOT NULL UNIQUE,
  kind             text NOT NULL CHECK (kind IN ('call', 'refund', 'adjustment', 'deposit')),
  call_id          text,
  campaign_id      text,
  memo             text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transactions_call ON ledger_transactions (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX ledger_transactions_created ON ledger_transactions (created_at);

-- Positive: the account is owed more (or holds more); negative: it owes or spent. Never edited, never deleted.
CREATE TABLE ledger_entries (
  id              bigserial PRIMARY KEY,
  transaction_id  bigint NOT NULL REFERENCES ledger_transactions(id),
  account_id      text NOT NULL REFERENCES accounts(id),
  amount_cents    bigint NOT NULL CHECK (amount_cents <> 0),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, created_at);

-- Every transaction sums to zero, checked by the database when the writing transaction commits.
CREATE FUNCTION ledger_transaction_balances() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total bigint;
BEGIN
  SELECT coalesce(sum(amount_cents), 0) INTO total FROM ledger_entries WHERE transaction_id = NEW.transaction_id;
  IF total <> 0 THEN
    RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.transaction_id, total USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_balances();

CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: post an adjustment instead' USING ERRCODE = '23000';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
  FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
  FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();

-- What billing decided for each ended call (one row per call, written with its postings).
CREATE TABLE call_billing (
  call_id         text PRIMARY KEY REFERENCES calls(id),
  campaign_id     text,
  ani             text NOT NULL,
  started_at      timestamptz NOT NULL,
  converted       boolean NOT NULL,
  duplicate       boolean NOT NULL,
  -- converted | too_short | not_bridged | duplicate_caller
  reason          text NOT NULL,
  buyer_charge_cents   bigint NOT NULL DEFAULT 0,
  seller_payout_cents  bigint NOT NULL DEFAULT 0,
  billed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_billing_duplicates ON call_billing (campaign_id, ani, started_at) WHERE converted;

-- Closed periods: a settlement run closes (account, period) once.
CREATE TABLE settlements (
  account_id     text NOT NULL REFERENCES accounts(id),
  period_start   timestamptz NOT NULL,
  period_end     timestamptz NOT NULL,
  total_cents    bigint NOT NULL,
  calls          integer NOT NULL,
  closed_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, period_start, period_end),
  CHECK (period_end > period_start)
);
