-- DNC lists hold millions of numbers: compare them byte by byte (collation "C") rather than by the database's
-- locale. The primary key's btree then sorts and inserts with plain memcmp, which bulk imports lean on.
ALTER TABLE dnc_entries
  ALTER COLUMN list_id TYPE text COLLATE "C",
  ALTER COLUMN number TYPE text COLLATE "C";
