import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { Logger } from '../observability/logger';

export interface DbOptions {
  url: string;
  /** Postgres schema to work in (tests give each file its own); default: the server's search_path. */
  schema?: string;
  max?: number;
}

/**
 * A pg pool. pg reconnects per query by itself (a dead connection is dropped from the pool and the next
 * query opens a new one), so "reconnect with backoff" for Postgres is the recorder's retry loop plus this.
 */
export function createPool(opts: DbOptions, logger: Logger): Pool {
  const config: PoolConfig = {
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  };
  if (opts.schema) config.options = `-c search_path=${quoteIdent(opts.schema)}`;
  const pool = new Pool(config);
  // An idle client losing its connection must not crash the process.
  pool.on('error', (err) => logger.warn({ err: err.message }, 'postgres idle client error'));
  return pool;
}

export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid SQL identifier: ${name}`);
  return `"${name}"`;
}

/** Runs `fn` in one transaction on one pooled connection: committed if it resolves, rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
