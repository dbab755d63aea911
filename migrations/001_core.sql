-- Core schema of the exchange: who trades (accounts), what is sold (campaigns, tracking numbers),
-- who buys (buyer targets), what happened (calls, decisions, bridge attempts) and compliance records.
-- Money is integer minor units (cents). Times are timestamptz (UTC inside).

CREATE TABLE accounts (
  id                 text PRIMARY KEY,
  kind               text NOT NULL CHECK (kind IN ('buyer', 'seller', 'platform')),
  name               text NOT NULL,
  -- prepaid funds and the credit a buyer may run up; a buyer whose available funds
  -- (balance + credit) cannot cover its bid is excluded at discovery
  balance_cents      bigint NOT NULL DEFAULT 0,
  credit_limit_cents bigint NOT NULL DEFAULT 0 CHECK (credit_limit_cents >= 0),
  active             boolean NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
  id                    text PRIMARY KEY,
  seller_account_id     text NOT NULL REFERENCES accounts(id),
  name                  text NOT NULL,
  active                boolean NOT NULL DEFAULT true,
  -- how the winner is chosen: an auction on bid x quality, or the commercial platforms' priority and weight
  routing               text NOT NULL DEFAULT 'second_price'
                        CHECK (routing IN ('first_price', 'second_price', 'priority_weight')),
  floor_cents           bigint NOT NULL DEFAULT 0 CHECK (floor_cents >= 0),
  require_consent       boolean NOT NULL DEFAULT false,
  -- minimum STIR/SHAKEN attestation: NULL (none required), 'A' (A only) or 'B' (A or B)
  min_attestation       text CHECK (min_attestation IN ('A', 'B')),
  -- what the caller hears when no buyer takes the call
  no_buyer_prompt       text NOT NULL DEFAULT 'no_buyer_available',
  -- how long real-time bidders may take (standing bids answer at once)
  bid_deadline_ms       integer NOT NULL DEFAULT 150 CHECK (bid_deadline_ms BETWEEN 0 AND 5000),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tracking_numbers (
  did               text PRIMARY KEY CHECK (did ~ '^\+[1-9][0-9]{6,14}$'),
  campaign_id       text NOT NULL REFERENCES campaigns(id),
  seller_account_id text NOT NULL REFERENCES accounts(id),
  active            boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracking_numbers_campaign ON tracking_numbers (campaign_id);

-- A buyer's standing bid on a campaign.
CREATE TABLE buyer_targets (
  id                  text PRIMARY KEY,
  buyer_account_id    text NOT NULL REFERENCES accounts(id),
  campaign_id         text NOT NULL REFERENCES campaigns(id),
  name                text NOT NULL,
  active              boolean NOT NULL DEFAULT true,
  bid_cents           bigint NOT NULL CHECK (bid_cents >= 0),
  -- SIP URI or E.164 number; NULL is allowed to be stored but such a target never wins (reason no_destination)
  destination         text,
  answer_timeout_sec  integer NOT NULL DEFAULT 20 CHECK (answer_timeout_sec BETWEEN 1 AND 120),
  -- {"states":["FL"],"areaCodes":["813"],"zips":["33602"],"excludeStates":[...]}: empty or missing = anywhere
  targeting           jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- {"timeZone":"America/New_York","hours":{"1":[[540,1020]],...}} minutes of day per weekday; NULL = always open
  schedule            jsonb,
  cap_concurrency     integer CHECK (cap_concurrency > 0),
  cap_hourly          integer CHECK (cap_hourly > 0),
  cap_daily           integer CHECK (cap_daily > 0),
  cap_monthly         integer CHECK (cap_monthly > 0),
  -- 0..1; the auction ranks by bid x quality
  quality_score       numeric(5,4) NOT NULL DEFAULT 1 CHECK (quality_score >= 0 AND quality_score <= 1),
  priority            integer NOT NULL DEFAULT 1 CHECK (priority >= 0),
  weight              integer NOT NULL DEFAULT 1 CHECK (weight >= 0),
  convert_on_seconds  integer NOT NULL DEFAULT 60 CHECK (convert_on_seconds >= 0),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX buyer_targets_campaign ON buyer_targets (campaign_id) WHERE active;

-- One row per call; written by the recorder from the call journal, never on the call path.
CREATE TABLE calls (
  id                 text PRIMARY KEY,
  switch_name        text,
  switch_call_id     text,
  direction          text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  ani                text NOT NULL,
  dnis               text NOT NULL,
  campaign_id        text,
  seller_account_id  text,
  attestation        text,
  zip                text,
  lead_id            text,
  outcome            text,            -- routed | rejected | abandoned ...
  reject_reason      text,
  winner_target_id   text,
  winner_buyer_id    text,
  price_cents        bigint,
  started_at         timestamptz NOT NULL,
  decided_at         timestamptz,
  decision_us        integer,
  answered_at        timestamptz,
  bridged_at         timestamptz,
  ended_at           timestamptz,
  hangup_cause       text,
  hung_up_by         text,
  end_reason         text,
  duration_sec       integer,
  billable_sec       integer
);
CREATE INDEX calls_started ON calls (started_at DESC);
CREATE INDEX calls_campaign ON calls (campaign_id, started_at DESC);

-- The full decision trace: every buyer considered, its bid, and why it won, lost or was excluded.
CREATE TABLE call_decisions (
  call_id     text PRIMARY KEY REFERENCES calls(id),
  decided_at  timestamptz NOT NULL,
  trace       jsonb NOT NULL
);

CREATE TABLE bridge_attempts (
  call_id        text NOT NULL REFERENCES calls(id),
  attempt_no     integer NOT NULL,
  target_id      text NOT NULL,
  buyer_id       text NOT NULL,
  destination    text NOT NULL,
  started_at     timestamptz NOT NULL,
  ended_at       timestamptz,
  status         text NOT NULL,      -- bridged | busy | no_answer | failed | caller_gone | cap_reached
  cause          text,
  PRIMARY KEY (call_id, attempt_no)
);

-- DNC: list_id 'global' is the platform's internal list; 'campaign:<id>' a campaign's; 'registry:<name>' imports.
CREATE TABLE dnc_entries (
  list_id     text NOT NULL,
  number      text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  source      text,
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_id, number)
);

-- Blocked callers (fraud, abuse): screened as invalid callers with reason blocked_caller.
CREATE TABLE blocked_numbers (
  number      text PRIMARY KEY CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  reason      text NOT NULL,
  added_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consent_records (
  id           bigserial PRIMARY KEY,
  campaign_id  text NOT NULL REFERENCES campaigns(id),
  number       text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  lead_id      text NOT NULL,
  source       text NOT NULL,
  consented_at timestamptz NOT NULL,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_lookup ON consent_records (campaign_id, number);

-- Every screening decision, pass or block, with its reasons. Append-only.
CREATE TABLE compliance_audit_log (
  id           bigserial PRIMARY KEY,
  call_id      text NOT NULL,
  campaign_id  text,
  ani          text NOT NULL,
  decision     text NOT NULL CHECK (decision IN ('pass', 'block')),
  reasons      jsonb NOT NULL,
  checked_at   timestamptz NOT NULL,
  UNIQUE (call_id)
);
CREATE INDEX compliance_audit_ani ON compliance_audit_log (ani, checked_at DESC);
