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
import { benchFlags } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['targets', 'batch', 'seconds', 'in-flight'],
  usage: `npm run bench:bids [-- options]

  --targets <n>    buyer targets whose bids are updated (default 1000)
  --batch <n>      bids per bids:update message (default 1000; at most --targets)
  --seconds <n>    how long the client sends (default 10)
  --in-flight <n>  messages the client has unacknowledged at once (default 2)
  --help           this text`,
});
const TARGETS = FLAGS.number('targets', 1000, { min: 1, integer: true });
const BATCH = Math.min(FLAGS.number('batch', 1000, { min: 1, integer: true }), TARGETS);
const SECONDS = FLAGS.number('seconds', 10, { min: 1, integer: true });
const IN_FLIGHT = FLAGS.number('in-flight', 2, { min: 1, integer: true });
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
