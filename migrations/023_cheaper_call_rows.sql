-- Less Postgres work per call (issue 17).

-- (A fill factor below 100 on calls, to make the end's UPDATE a heap-only one, was tried and left out: migration
-- 025 indexes ended_at for the billing sweep, so that UPDATE always writes index entries.)

-- The decision trace (about 4 KB of JSON per call) is compressed on insert; lz4 costs Postgres about a quarter less
-- CPU than the default pglz for these traces, for about 8% more bytes stored. Postgres built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE call_decisions ALTER COLUMN trace SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 is not available; call_decisions.trace keeps the default compression';
END $$;
