-- Every change of an account's balance or credit limit bumps its funds version, in the same transaction (a trigger,
-- so no writer can forget it: billing, deposits, refunds, adjustments, a credit limit changed by an admin). Nodes
-- keep each buyer's available funds (balance + credit) in Redis with this version, and a figure is written there
-- only over an older one, so two writers whose figures cross never put an older figure back (app/cache/fund-holds.ts).
ALTER TABLE accounts ADD COLUMN funds_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION bump_funds_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.funds_version := OLD.funds_version + 1;
  RETURN NEW;
END $$;

CREATE TRIGGER accounts_funds_version BEFORE UPDATE OF balance_cents, credit_limit_cents ON accounts
  FOR EACH ROW WHEN (OLD.balance_cents IS DISTINCT FROM NEW.balance_cents OR OLD.credit_limit_cents IS DISTINCT FROM NEW.credit_limit_cents)
  EXECUTE FUNCTION bump_funds_version();
