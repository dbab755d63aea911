/**
 * Sellers' pings benchmark: what POST /rtb/ping does behind the HTTP layer (SellerPings.ping: the campaign's payout
 * and the seller's limits from the config snapshot, the rate windows, the router's quote with its one
 * screening-and-reserve round trip, the reservation stored, the bid row written, the counts), for one campaign with
 * `--targets` buyer targets, every ping a new caller (so every one reserves); then Postgres queries per ping by kind
 * (reserved, informational, repeat); then the cost a seller's bid adds to an inbound call that has none: Redis
 * commands per routing decision with the claim lookup and without it (counts, not times).
 * Prints one JSON line per figure.
 *
 *   npm run bench:seller-pings [-- --targets 200 --pings 5000 --concurrency 1,16 --calls 2000]
 *
 * Uses schema `bench_seller_pings` in DATABASE_URL and Redis prefix `bench:seller-pings:` (both recreated).
 */
import os from 'node:os';
import { createPool } from '../app/store/db';
import { migrate } from '../app/store/migrate';
import { createRedis } from '../app/cache/redis';
import { ScreenAndReserve } from '../app/cache/screen-and-reserve';
import { CapLedger } from '../app/cache/cap-ledger';
import { FundHolds } from '../app/cache/fund-holds';
import { SellerBidReservations } from '../app/cache/seller-bid-reservations';
import { SellerPingCounts } from '../app/cache/seller-ping-counts';
import { loadComplianceCache } from '../app/store/compliance-repo';
import { SnapshotSource } from '../app/exchange/snapshot-source';
import { Router } from '../app/exchange/router';
import { SellerPings } from '../app/exchange/seller-pings';
import { createLogger } from '../app/observability/logger';
import { freshBenchState } from './load/bench-state';
import { countCommands, countQueries } from './load/client-counters';
import { benchFlags, pct } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['targets', 'pings', 'concurrency', 'calls'],
  usage: `npm run bench:seller-pings [-- options]

  --targets <n>        buyer targets of the campaign pinged (default 200)
  --pings <n>          pings measured at each concurrency, each from a new caller (default 5000)
  --concurrency <list> pings in flight at once, comma-separated runs (default 1,16)
  --calls <n>          routing decisions counted for Redis commands, with and without the bid lookup (default 2000)
  --help               this text`,
});
const TARGETS = FLAGS.number('targets', 200, { min: 1, integer: true });
const PINGS = FLAGS.number('pings', 5000, { min: 1, integer: true });
const CALLS = FLAGS.number('calls', 2000, { min: 1, integer: true });
const CONCURRENCY = FLAGS.numbers('concurrency', [1, 16], { min: 1, integer: true });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_seller_pings';
const PREFIX = 'bench:seller-pings:';
const DID = '+18885550100';

function emit(name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit, buyers: TARGETS, load1: Math.round(os.loadavg()[0]! * 100) / 100, cores: os.cpus().length, ...extra })}\n`);
}

const caller = (i: number): string => `+1312${String(2000000 + i).padStart(7, '0')}`;



async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
  const pool = createPool({ url: DATABASE_URL, schema: SCHEMA }, logger);
  await migrate(pool, logger);
  const redis = createRedis(REDIS_URL, PREFIX, logger, 'bench', { autoPipeline: true });
  const subscriber = createRedis(REDIS_URL, PREFIX, logger, 'bench-sub');
  await pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'Bench seller')");
  await pool.query("INSERT INTO campaigns (id, seller_account_id, name, routing, floor_cents, payout_percent) VALUES ('bench', 'seller', 'Bench', 'second_price', 500, 60)");
  await pool.query('INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, $2, $3)', [DID, 'bench', 'seller']);
  await pool.query("INSERT INTO accounts (id, kind, name, balance_cents) SELECT 'buyer-' || g, 'buyer', 'Buyer ' || g, 100000000000 FROM generate_series(1, $1) g", [TARGETS]);
  await pool.query(
    `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, targeting, cap_concurrency, cap_daily)
     SELECT 't' || g, 'buyer-' || g, 'bench', 'target', 500 + (g * 7919) % 5000, 'sip:t' || g || '@buyers.example', '{}', 1000000, 10000000 FROM generate_series(1, $1) g`,
    [TARGETS],
  );
  await loadComplianceCache(pool, redis);
  const fundHolds = new FundHolds(redis);
  const snapshots = new SnapshotSource(pool, subscriber, PREFIX, logger, { fundHolds });
  await snapshots.start();
  const caps = new CapLedger(redis);
  const reservations = new SellerBidReservations(redis);
  const router = new Router({ snapshots, gate: new ScreenAndReserve(redis), caps, sellerBids: reservations, logger });
  const pings = new SellerPings({
    router, snapshots, reservations, counts: new SellerPingCounts(redis), caps, pool, publishConfigChanged: async () => undefined, limits: { perMinute: 0, perHour: 0, perDay: 0 }, bidTtlSec: 60, logger,
  });

  let n = 0;
  const ping = () => pings.ping({ sellerAccountId: 'seller', campaignId: 'bench', callerE164: caller(n++), zip: '60601', tags: { source: 'bench' } });
  for (let i = 0; i < 500; i++) await ping(); // warm-up
  for (const concurrency of CONCURRENCY) {
    const latencies: number[] = [];
    let bids = 0;
    let done = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (done < PINGS) {
          done += 1;
          const t0 = process.hrtime.bigint();
          const answer = await ping();
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (answer.bidId) bids += 1;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    latencies.sort((a, b) => a - b);
    const cond = { pings: PINGS, concurrency, bids, layer: 'SellerPings.ping (no HTTP)' };
    emit('seller_ping_p50_ms', pct(latencies, 0.5), 'ms', cond);
    emit('seller_ping_p99_ms', pct(latencies, 0.99), 'ms', cond);
    emit('seller_pings_per_s', PINGS / seconds, 'pings/s', cond);
  }

  // Postgres queries per ping, by kind: a ping with a caller id reserves and stores its bid; one without is
  // informational (stored, nothing held); a repeat answers the live bid again (nothing stored).
  const queries = countQueries(pool);
  const QUERY_PINGS = 200;
  const repeated = caller(n++);
  await pings.ping({ sellerAccountId: 'seller', campaignId: 'bench', callerE164: repeated, zip: '60601', tags: { source: 'bench' } });
  const callerOf = { reserved: () => caller(n++), informational: () => undefined, repeat: () => repeated };
  for (const kind of ['reserved', 'informational', 'repeat'] as const) {
    const before = queries.count;
    let answered = 0;
    for (let i = 0; i < QUERY_PINGS; i++) {
      const answer = await pings.ping({ sellerAccountId: 'seller', campaignId: 'bench', callerE164: callerOf[kind](), zip: '60601', tags: { source: 'bench' } });
      if (answer.bidId) answered += 1;
    }
    emit('seller_ping_postgres_queries_per_ping', (queries.count - before) / QUERY_PINGS, 'queries/ping', { pings: QUERY_PINGS, kind, bids: answered });
  }

  // What a seller's bid costs a call that has none: Redis commands per decision, with the claim lookup and without.
  // A connection without auto-pipelining, so every command passes through sendCommand to be counted.
  const counted = createRedis(REDIS_URL, PREFIX, logger, 'bench-counted');
  const countedCaps = new CapLedger(counted);
  const plain = new Router({ snapshots, gate: new ScreenAndReserve(counted), caps: countedCaps, logger });
  const claiming = new Router({ snapshots, gate: new ScreenAndReserve(counted), caps: countedCaps, sellerBids: new SellerBidReservations(counted), logger });
  const counter = countCommands(counted);
  for (const [label, r] of [['without', plain], ['with', claiming]] as const) {
    const before = counter.count;
    for (let i = 0; i < CALLS; i++) {
      const d = await r.decide(`call-${label}-${i}`, { switchCallId: '', switchName: 'bench', direction: 'inbound', ani: caller(1_000_000 + i), dnis: DID }, new Date());
      const afterDecide = counter.count;
      if (d.outcome === 'route') await countedCaps.release(`call-${label}-${i}`, d.winner.counters, d.winner.hold);
      counter.count = afterDecide; // the release is the bench's, not the call's
    }
    emit('routing_redis_commands_per_call', (counter.count - before) / CALLS, 'commands/call', { calls: CALLS, seller_bid_lookup: label });
  }

  await snapshots.stop();
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
  subscriber.disconnect();
  counted.disconnect();
  redis.disconnect();
  await pool.end();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
