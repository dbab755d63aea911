-- Issue 14, features 3-5: national DNC registry copies (freshness, replaced whole), Reassigned Numbers Database
-- results, and TCPA litigator lists (kept apart from DNC), with the campaign setting that blocks litigators.

-- One row per registry copy imported. Its numbers are in dnc_entries under list_id 'registry-copy:<kind>:<generation>'
-- (a short key: every one of millions of index entries carries it);
-- exactly one copy per kind is current (the one screening reads); a newer one replaces it when fully loaded.
CREATE TABLE dnc_registry_imports (
  id             uuid PRIMARY KEY,
  generation     bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  kind           text NOT NULL CHECK (kind IN ('us', 'ca')),   -- us: FTC National DNC Registry; ca: CRTC National DNCL
  registry_date  date NOT NULL,                                -- the copy's own date, as the registry issued it
  area_codes     text[] NOT NULL DEFAULT '{}',                  -- the area codes the copy covers; empty: all of them
  source         text NOT NULL,
  status         text NOT NULL CHECK (status IN ('loading', 'current', 'replaced', 'failed')),
  numbers        bigint NOT NULL DEFAULT 0,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);
CREATE UNIQUE INDEX dnc_registry_one_current ON dnc_registry_imports (kind) WHERE status = 'current';

-- Reassigned Numbers Database results: the last permanent disconnection the RND reports for a number.
CREATE TABLE reassigned_numbers (
  number           text PRIMARY KEY CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  disconnected_on  date NOT NULL,
  source           text NOT NULL,
  recorded_at      timestamptz NOT NULL DEFAULT now()
);

-- Known TCPA litigators and serial complainers, per list source (a vendor's list, our own complaints).
CREATE TABLE litigator_numbers (
  number     text NOT NULL CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  source     text NOT NULL,
  listed_on  date NOT NULL,
  added_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (number, source)
);

ALTER TABLE campaigns ADD COLUMN block_litigators boolean NOT NULL DEFAULT false;
