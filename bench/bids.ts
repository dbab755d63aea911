/**
 * Standing-bid updates over socket.io: an exchange node in this process (real Postgres and Redis), a client in
 * another process on loopback sending batched `bids:update` messages; every batch is one Postgres statement and
 * one Redis publish, and every node applies it to its snapshot.
 *
 *   npm run bench:bids [-- --targets 1000 --batch 1000 --seconds 10 --in-flight 2]
 *
 * Prints JSON lines: bid_updates_per_s (acknowledged updates per second). Uses the schema `bench_bids` of
 * DATABASE_URL and the Redis prefix `bench:bids:`.
 */
import { loadConfig } from '../app/config';
import { silentLogger } from '../app/observability/logger';
import { startExchangeNode } from '../app/exchange-node';
import { createApiKey } from '../app/store/api-keys';
import { measureBidUpdates } from './load/bid-phase';
import { freshBenchState } from './load/bench-state';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): number => {
  const i = args.indexOf(`--${name}`);
  const v = Number(i >= 0 && args[i + 1] ? args[i + 1] : fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const TARGETS = arg('targets', '1000');
const BATCH = Math.min(arg('batch', '1000'), TARGETS);
const SECONDS = arg('seconds', '10');
const IN_FLIGHT = arg('in-flight', '2');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_bids';
const PREFIX = 'bench:bids:';

async function main(): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });

  const config = loadConfig({ DATABASE_URL, DATABASE_SCHEMA: SCHEMA, REDIS_URL, REDIS_PREFIX: PREFIX, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'warn' });
  const node = await startExchangeNode(config, silentLogger());
  try {
    await node.pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'S'), ('buyer', 'buyer', 'B')");
    await node.pool.query("INSERT INTO campaigns (id, seller_account_id, name) VALUES ('c', 'seller', 'C')");
    await node.pool.query(
      "INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination) SELECT 't' || g, 'buyer', 'c', 't', 1000, 'sip:b@x' FROM generate_series(1, $1) g",
      [TARGETS],
    );
    await node.snapshots.refreshNow();
    const { key } = await createApiKey(node.pool, { role: 'buyer', accountId: 'buyer' });
    process.stdout.write(`${JSON.stringify(await measureBidUpdates(node, key, { targets: TARGETS, batch: BATCH, seconds: SECONDS, inFlight: IN_FLIGHT }))}\n`);
  } finally {
    await node.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
