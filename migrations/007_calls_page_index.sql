-- The calls list pages by (started_at, id), newest first: an index in that exact order lets Postgres read a
-- page straight off the index instead of sorting the rows that share a started_at. It replaces the index on
-- started_at alone, which it covers.
CREATE INDEX calls_started_id ON calls (started_at DESC, id DESC);
DROP INDEX calls_started;
