-- Less Postgres work per call (issue 17).

-- A call's row takes one UPDATE when it ends (outcome, end and billing columns, none of them indexed). With every page
-- filled by inserts, the new row version rarely fit on its page, so most of those updates also wrote a new entry
-- into each of the table's five indexes. Room left on each page lets them be HOT updates (heap only). Applies to
-- pages written from now on; existing pages keep their fill.
ALTER TABLE calls SET (fillfactor = 75);

-- The decision trace (about 4 KB of JSON per call) is compressed on insert; lz4 costs Postgres about a quarter less
-- CPU than the default pglz for these traces, for about 8% more bytes stored. Postgres built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE call_decisions ALTER COLUMN trace SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 is not available; call_decisions.trace keeps the default compression';
END $$;
