/**
 * Run as a child process by the billing durability test: a billing worker that dies (SIGKILL, nothing flushed)
 * in the middle of a job, after its ledger entries were sent to Postgres and before the transaction commits.
 */
import type { PoolClient } from 'pg';
import { createPool } from '../../app/store/db';
import { createRedis } from '../../app/cache/redis';
import { silentLogger } from '../../app/observability/logger';
import { BillingWorker } from '../../app/jobs/billing-worker';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './infra';

async function main(): Promise<void> {
  const [schema, prefix] = process.argv.slice(2) as [string, string];
  const pool = createPool({ url: TEST_DATABASE_URL, schema, max: 2 }, silentLogger());
  const connect = pool.connect.bind(pool) as () => Promise<PoolClient>;
  (pool as unknown as { connect: () => Promise<PoolClient> }).connect = async () => {
    const client = await connect();
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
      const result = await query(...args);
      // Plain text or a named statement's config (billing's statements are prepared).
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (text?.includes('INSERT INTO ledger_entries')) {
        process.stdout.write('DYING\n');
        process.kill(process.pid, 'SIGKILL');
      }
      return result;
    };
    return client;
  };
  const redis = createRedis(TEST_REDIS_URL, prefix, silentLogger());
  new BillingWorker(pool, redis, silentLogger(), { redisUrl: TEST_REDIS_URL, redisPrefix: prefix, lockDurationMs: 1000, stalledIntervalMs: 500 }).start();
}

void main();
