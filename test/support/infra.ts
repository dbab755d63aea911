import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { createPool } from '../../app/store/db';
import { migrate } from '../../app/store/migrate';
import { silentLogger } from '../../app/observability/logger';

/**
 * Real Postgres and Redis for tests, isolated per test file: a schema of its own in the `test` database
 * and a Redis key prefix of its own. Never an in-memory fake.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestInfra {
  schema: string;
  prefix: string;
  pool: Pool;
  redis: Redis;
  cleanup(): Promise<void>;
}

export async function createTestInfra(name: string, opts: { migrate?: boolean } = {}): Promise<TestInfra> {
  const tag = `${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const schema = `t_${tag}`;
  const prefix = `test:${tag}:`;
  const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.end();
  const pool = createPool({ url: TEST_DATABASE_URL, schema, max: 10 }, silentLogger());
  if (opts.migrate !== false) await migrate(pool, silentLogger());
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  return {
    schema,
    prefix,
    pool,
    redis,
    async cleanup() {
      await pool.end();
      const raw = new Redis(TEST_REDIS_URL);
      let cursor = '0';
      do {
        const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await raw.del(...keys);
      } while (cursor !== '0');
      raw.disconnect();
      redis.disconnect();
      const dropper = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
      await dropper.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await dropper.end();
    },
  };
}

/**
 * Polls until `fn` returns a truthy value or the time runs out (then fails with `what`; a function is called
 * only then, so its message can show the state at the timeout).
 */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string | (() => string), timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
