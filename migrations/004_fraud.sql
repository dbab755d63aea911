-- Fraud: a score per call and stage (screening, end), and the audit of what fraud blocked or paused and who
-- lifted it.

CREATE TABLE fraud_scores (
  call_id            text NOT NULL,
  stage              text NOT NULL CHECK (stage IN ('screening', 'ended')),
  ani                text NOT NULL,
  seller_account_id  text,
  score              integer NOT NULL CHECK (score BETWEEN 0 AND 100),
  reasons            jsonb NOT NULL,
  action             text NOT NULL CHECK (action IN ('none', 'block_caller', 'pause_number')),
  scored_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (call_id, stage)
);

CREATE TABLE fraud_actions (
  id          bigserial PRIMARY KEY,
  action      text NOT NULL CHECK (action IN ('block_caller', 'pause_number', 'lift_block', 'resume_number')),
  -- the caller number, or the tracking number paused
  subject     text NOT NULL,
  call_id     text,
  score       integer,
  reasons     jsonb,
  -- 'fraud' for the worker, else the API key id that acted
  actor       text NOT NULL DEFAULT 'fraud',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fraud_actions_subject ON fraud_actions (subject, created_at DESC);

-- The facts fraud rules read: a caller's recent calls, a seller's recent calls.
CREATE INDEX calls_ani_started ON calls (ani, started_at);
CREATE INDEX calls_seller_started ON calls (seller_account_id, started_at);
