import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Pool, PoolClient } from 'pg';
import { quoteIdent } from './db';
import type { Logger } from '../observability/logger';

/**
 * The repository's migrations/: two levels up from app/store when run from source (tsx, jest), three from
 * dist/app/store when built (`npm start`, the Docker image, which copies migrations/ next to dist/).
 */
export const MIGRATIONS_DIR = [path.resolve(__dirname, '..', '..', 'migrations'), path.resolve(__dirname, '..', '..', '..', 'migrations')].find((dir) => existsSync(dir)) ?? path.resolve(__dirname, '..', '..', 'migrations');

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies migrations/NNN_name.sql in name order, each in its own transaction, recording each in
 * schema_migrations. Safe to run from several nodes at once (an advisory lock serialises them) and to
 * re-run (applied files are skipped).
 */
export async function migrate(pool: Pool, logger: Logger, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = (await fs.readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  const client = await pool.connect();
  const result: MigrationResult = { applied: [], alreadyApplied: [] };
  try {
    const created = await ensureSchema(client);
    if (created) logger.info({ schema: created }, 'schema created');
    await client.query('SELECT pg_advisory_lock(hashtext(current_schema()))');
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) {
        result.alreadyApplied.push(file);
        continue;
      }
      const sql = await fs.readFile(path.join(dir, file), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      result.applied.push(file);
      logger.info({ migration: file }, 'migration applied');
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext(current_schema()))').catch(() => undefined);
    client.release();
  }
  return result;
}

/**
 * Creates the schema the connection is set to work in (DATABASE_SCHEMA: the first entry of its search_path) when
 * it does not exist yet, so a fresh deployment's first `npm run migrate`, `npm run api-key` or start-up makes it
 * instead of failing with Postgres's "no schema has been selected to create in". Returns the schema it created.
 */
export async function ensureSchema(client: Pick<PoolClient, 'query'>): Promise<string | undefined> {
  const { rows } = await client.query<{ current: string | null; path: string }>("SELECT current_schema() AS current, current_setting('search_path') AS path");
  if (rows[0]!.current !== null) return undefined;
  const wanted = rows[0]!.path
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .find((s) => s !== '' && s !== '$user');
  if (!wanted) return undefined;
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(wanted)}`);
  } catch (err) {
    // Two nodes creating it at once: one wins, the other sees a duplicate; either way it exists now.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
  return wanted;
}
