-- The decision trace is stored as json, not jsonb (issue 17): nothing queries inside it on the call path, and parsing
-- ~4 KB of JSON into jsonb cost Postgres more than half of what inserting a trace costs. Measured on the bench's
-- traces (50 buyers, batches of 100, lz4): the backend's CPU per row 85-93 µs as jsonb, 37-41 µs as json; stored
-- 2,884 bytes per row as jsonb, 2,089 as json. json keeps the text as the recorder sent it (jsonb sorted the keys
-- and added spaces): the API's trace is the same JSON value. What needs jsonb functions casts (privacy erasure).
--
-- The type change rewrites the table under an ACCESS EXCLUSIVE lock: ~30 s for 200k rows on the 2-core bench
-- machine under load. Calls do not wait for it (they journal to Redis; the recorder catches up once the lock goes),
-- but the recorder's writes and the operators' call detail do: on a large call_decisions, run migrations at a quiet
-- hour. Changing the type resets the column's compression: lz4 is set again in the same rewrite (migration 023).
-- Recorders from before and after this work with either type (json and jsonb convert on assignment): upgrade in any order.
DO $$
BEGIN
  ALTER TABLE call_decisions ALTER COLUMN trace TYPE json USING trace::json, ALTER COLUMN trace SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 is not available; call_decisions.trace keeps the default compression';
  ALTER TABLE call_decisions ALTER COLUMN trace TYPE json USING trace::json;
END $$;
