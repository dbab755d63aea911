/**
 * Job throughput on the real Redis and Postgres: a backlog of ended calls is enqueued on the billing queue and
 * settled by the billing worker (batched transactions, ledger postings, balances), then the same calls are
 * scored by the fraud worker (screening stage: velocity and seller facts from Postgres, rules, stored score).
 * Each figure is jobs done per second from the first job taken to the last one done.
 *
 *   npm run bench:jobs [-- --calls 20000 --concurrency 200 --fraud-concurrency 4]
 *
 * Prints JSON lines: billing_jobs_per_s, fraud_jobs_per_s. Uses the schema `bench_jobs` of DATABASE_URL and the
 * Redis prefix `bench:jobs:` (both emptied first).
 */
import { createPool } from '../app/store/db';
import { migrate } from '../app/store/migrate';
import { createRedis } from '../app/cache/redis';
import { createLogger, silentLogger } from '../app/observability/logger';
import { billingQueue, enqueueBilling, enqueueFraud, fraudQueue, FRAUD_ITEMS_PER_JOB } from '../app/jobs/queues';
import { BillingWorker } from '../app/jobs/billing-worker';
import { FraudWorker } from '../app/jobs/fraud-worker';
import { DEFAULT_FRAUD_RULES } from '../app/domain/fraud';
import { freshBenchState } from './load/bench-state';
import { benchFlags } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['calls', 'concurrency', 'fraud-concurrency'],
  usage: `npm run bench:jobs [-- options]

  --calls <n>              ended calls in the backlog (default 20000)
  --concurrency <n>        the billing worker's jobs at once (default 200, BILLING_CONCURRENCY's default)
  --fraud-concurrency <n>  the fraud worker's jobs at once (default 4, its default; jobs of up to 100 calls)
  --help                   this text`,
});
const CALLS = FLAGS.number('calls', 20_000, { min: 1, integer: true });
const CONCURRENCY = FLAGS.number('concurrency', 200, { min: 1, integer: true });
const FRAUD_CONCURRENCY = FLAGS.number('fraud-concurrency', 4, { min: 1, integer: true });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_jobs';
const PREFIX = 'bench:jobs:';

async function reset(): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
}

async function main(): Promise<void> {
  await reset();
  const logger = process.env.BENCH_LOG ? createLogger(process.env.BENCH_LOG) : silentLogger();
  const pool = createPool({ url: DATABASE_URL, schema: SCHEMA, max: 10 }, logger);
  await migrate(pool, logger);
  await pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'Seller')");
  await pool.query("INSERT INTO accounts (id, kind, name, balance_cents) SELECT 'buyer-' || g, 'buyer', 'Buyer', 1000000000 FROM generate_series(1, 20) g");
  await pool.query("INSERT INTO campaigns (id, seller_account_id, name, payout_percent) VALUES ('c', 'seller', 'Bench', 60)");
  await pool.query("INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, convert_on_seconds) SELECT 't' || g, 'buyer-' || g, 'c', 't', 2000, 'sip:b@x', 60 FROM generate_series(1, 20) g");
  // Ended calls with random talk times (about two thirds convert), distinct callers.
  process.stderr.write(`writing ${CALLS} ended calls...\n`);
  await pool.query(
    `INSERT INTO calls (id, direction, ani, dnis, started_at, campaign_id, seller_account_id, outcome, winner_target_id, winner_buyer_id,
       price_cents, ended_at, duration_sec, billable_sec)
     SELECT 'call-' || g, 'inbound', '+1303' || lpad(g::text, 7, '0'), '+18885550100', now() - interval '1 hour', 'c', 'seller', 'bridged',
       't' || (1 + g % 20), 'buyer-' || (1 + g % 20), 1000 + (g % 17) * 100, now(), s, s
     FROM (SELECT g, floor(random() * 180)::int AS s FROM generate_series(1, $1) g) x`,
    [CALLS],
  );
  const settings = { redisUrl: REDIS_URL, redisPrefix: PREFIX };
  const queue = billingQueue(settings);
  const ids = Array.from({ length: CALLS }, (_, i) => `call-${i + 1}`);
  for (let i = 0; i < ids.length; i += 1000) await enqueueBilling(queue, ids.slice(i, i + 1000));
  process.stderr.write(`enqueued ${CALLS} billing jobs; settling...\n`);

  const redis = createRedis(REDIS_URL, PREFIX, logger, 'bench-jobs');
  let done = 0;
  let first = 0;
  const worker = new BillingWorker(pool, redis, logger, {
    ...settings,
    concurrency: CONCURRENCY,
    onBatch: (b) => {
      first ||= Date.now() - b.ms;
      done += b.calls;
    },
  });
  const started = Date.now();
  worker.start();
  const progress = setInterval(() => process.stderr.write(`\r  ${done}/${CALLS} settled`), 1000);
  while (done < CALLS) {
    if (Date.now() - started > 300_000) throw new Error(`only ${done} of ${CALLS} settled in 5 minutes`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (Date.now() - (first || started)) / 1000;
  clearInterval(progress);
  process.stderr.write('\n');
  await worker.stop();
  const check = await pool.query('SELECT (SELECT count(*)::int FROM call_billing) AS billed, (SELECT coalesce(sum(amount_cents), 0)::int FROM ledger_entries) AS total');
  if (check.rows[0].billed !== CALLS || check.rows[0].total !== 0) throw new Error(`ledger check failed: ${JSON.stringify(check.rows[0])}`);
  process.stdout.write(`${JSON.stringify({ name: 'billing_jobs_per_s', value: Math.round(CALLS / seconds), unit: 'jobs/s', calls: CALLS, concurrency: CONCURRENCY, converted_share: Number(((await pool.query('SELECT avg(converted::int) AS a FROM call_billing')).rows[0].a as string).slice(0, 4)) })}\n`);
  await queue.close();

  // Fraud: one screening job per call.
  const fq = fraudQueue(settings);
  for (let i = 0; i < ids.length; i += 1000) await enqueueFraud(fq, ids.slice(i, i + 1000).map((callId) => ({ callId, stage: 'screening' as const })));
  process.stderr.write(`enqueued ${CALLS} fraud jobs; scoring...\n`);
  let scored = 0;
  let firstScored = 0;
  const fraud = new FraudWorker(pool, redis, logger, {
    ...settings,
    rules: DEFAULT_FRAUD_RULES,
    concurrency: FRAUD_CONCURRENCY,
    onScored: () => {
      firstScored ||= Date.now();
      scored += 1;
    },
  });
  const fraudStarted = Date.now();
  fraud.start();
  while (scored < CALLS) {
    if (Date.now() - fraudStarted > 300_000) throw new Error(`only ${scored} of ${CALLS} scored in 5 minutes`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const fraudSeconds = (Date.now() - (firstScored || fraudStarted)) / 1000;
  await fraud.stop();
  // One fraud job is one (call, stage) scored, whatever the number of them BullMQ carries at once.
  process.stdout.write(`${JSON.stringify({ name: 'fraud_jobs_per_s', value: Math.round(CALLS / fraudSeconds), unit: 'jobs/s', calls: CALLS, concurrency: FRAUD_CONCURRENCY, calls_per_queue_job: FRAUD_ITEMS_PER_JOB })}\n`);
  await fq.close();
  redis.disconnect();
  await pool.end();
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
