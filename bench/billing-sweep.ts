/**
 * What a billing sweep costs on a big calls table: N ended calls spread over the sweep's window (7 days), all
 * billed but a few whose jobs were lost. Times the sweep (app/jobs/billing-sweep.ts) when it reads the whole window
 * (first sweep, or Redis lost its state) and when it reads only the calls since the last sweep, and shows the
 * plan of its query with the calls_ended index (migrations/025) and without it.
 *
 *   npm run bench:billing-sweep [-- --calls 200000 --lost 20 --runs 3]
 *
 * Prints JSON lines: billing_sweep_full_ms, billing_sweep_incremental_ms (each run), and
 * billing_sweep_query_plan (the plan's nodes and execution time, with and without the index). Uses the schema
 * `bench_billing_sweep` of DATABASE_URL and the Redis prefix `bench:billing-sweep:` (both emptied first).
 */
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { createPool } from '../app/store/db';
import { migrate } from '../app/store/migrate';
import { createRedis } from '../app/cache/redis';
import { silentLogger } from '../app/observability/logger';
import { billingQueue } from '../app/jobs/queues';
import { BillingSweep, SWEEP_STATE_KEY } from '../app/jobs/billing-sweep';
import { freshBenchState } from './load/bench-state';
import { parseArgs } from './load/bench-args';

const args = parseArgs(process.argv.slice(2));
const arg = (name: string, fallback: number): number => {
  const v = Number(args[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const CALLS = arg('calls', 200_000);
const LOST = arg('lost', 20);
const RUNS = arg('runs', 3);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_billing_sweep';
const PREFIX = 'bench:billing-sweep:';
const WINDOW_MS = 7 * 86_400_000;
const GRACE_MS = 120_000;
const INTERVAL_MS = 60_000;

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const print = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

/** The plan of one page of the sweep's query over [from, to): its node types and Postgres' execution time. */
async function plan(pool: Pool, from: Date, to: Date): Promise<{ nodes: string[]; executionMs: number }> {
  const { rows } = await pool.query(
    `EXPLAIN (ANALYZE, FORMAT JSON) SELECT c.id, c.ended_at FROM calls c
     WHERE c.ended_at >= $1 AND c.ended_at < $2 AND c.ended_at IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM call_billing b WHERE b.call_id = c.id)
     ORDER BY c.ended_at, c.id LIMIT 1000`,
    [from, to],
  );
  const top = rows[0]['QUERY PLAN'][0];
  const nodes: string[] = [];
  const walk = (n: { 'Node Type': string; 'Join Type'?: string; 'Index Name'?: string; Plans?: unknown[] }): void => {
    const kind = n['Join Type'] && n['Join Type'] !== 'Inner' ? `${n['Node Type']} ${n['Join Type']}` : n['Node Type'];
    nodes.push(n['Index Name'] ? `${kind} (${n['Index Name']})` : kind);
    for (const p of n.Plans ?? []) walk(p as typeof n);
  };
  walk(top.Plan);
  return { nodes, executionMs: Math.round(top['Execution Time'] * 10) / 10 };
}

async function main(): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
  const pool = createPool({ url: DATABASE_URL, schema: SCHEMA, max: 4 }, silentLogger());
  await migrate(pool, silentLogger());
  const redis = createRedis(REDIS_URL, PREFIX, silentLogger(), 'bench');
  const queue = billingQueue({ redisUrl: REDIS_URL, redisPrefix: PREFIX });
  const now = Date.now();
  process.stderr.write(`writing ${CALLS} ended calls over 7 days, ${LOST} of them unbilled...\n`);
  await pool.query(
    `INSERT INTO calls (id, direction, ani, dnis, started_at, ended_at, outcome)
     SELECT 'call-' || lpad(g::text, 8, '0'), 'inbound', '+12025550000', '+18885550100', e - interval '1 minute', e, 'no_buyer'
     FROM (SELECT g, to_timestamp($2 / 1000.0) - (g * $3 / 1000.0) * interval '1 second' AS e FROM generate_series(1, $1) g) x`,
    [CALLS, now, WINDOW_MS / CALLS],
  );
  // Every call billed but LOST spread over the window, all past the grace age (their jobs were lost with Redis' data).
  const step = Math.floor(CALLS / LOST);
  await pool.query(
    `INSERT INTO call_billing (call_id, ani, started_at, converted, duplicate, reason)
     SELECT id, ani, started_at, false, false, 'not_bridged' FROM calls WHERE substr(id, 6)::int % $1 <> $2`,
    [step, Math.floor(step / 2)],
  );
  await pool.query('VACUUM ANALYZE calls');
  await pool.query('VACUUM ANALYZE call_billing');
  const lost = Number((await pool.query('SELECT count(*)::int AS n FROM calls c WHERE NOT EXISTS (SELECT 1 FROM call_billing b WHERE b.call_id = c.id)')).rows[0].n);

  const sweep = new BillingSweep(pool, redis, queue, silentLogger(), { intervalMs: INTERVAL_MS, graceMs: GRACE_MS, maxAgeDays: 7 });
  const conditions = { calls: CALLS, unbilled: lost, window_days: 7, grace_ms: GRACE_MS, interval_ms: INTERVAL_MS };
  for (let run = 1; run <= RUNS; run++) {
    // A full read (no sweep state in Redis), then the next sweep a minute later reading only what ended since.
    await redis.del(SWEEP_STATE_KEY);
    await queue.obliterate({ force: true });
    let t = process.hrtime.bigint();
    const full = await sweep.sweep(new Date(now));
    const fullMs = Number(process.hrtime.bigint() - t) / 1e6;
    print({ name: 'billing_sweep_full_ms', value: Math.round(fullMs * 10) / 10, unit: 'ms', run, found: full?.found, swept: full?.swept, loadavg: loadavg(), ...conditions });
    t = process.hrtime.bigint();
    const next = await sweep.sweep(new Date(now + INTERVAL_MS));
    const nextMs = Number(process.hrtime.bigint() - t) / 1e6;
    print({ name: 'billing_sweep_incremental_ms', value: Math.round(nextMs * 10) / 10, unit: 'ms', run, found: next?.found, swept: next?.swept, loadavg: loadavg(), ...conditions });
  }

  const fullWindow = [new Date(now - WINDOW_MS), new Date(now - GRACE_MS)] as const;
  // what an incremental sweep reads: since the last one, less the 15 minutes' look-back
  const sinceLast = [new Date(now - GRACE_MS - 15 * 60_000), new Date(now + INTERVAL_MS - GRACE_MS)] as const;
  for (const index of ['calls_ended', 'none'] as const) {
    if (index === 'none') {
      await pool.query('DROP INDEX calls_ended');
      await pool.query('ANALYZE calls');
    }
    for (const [window, [from, to]] of [['full', fullWindow], ['since_last_sweep', sinceLast]] as const) {
      const p = await plan(pool, from, to);
      print({ name: 'billing_sweep_query_plan', value: p.executionMs, unit: 'ms', index, window, plan: p.nodes.join(' > '), loadavg: loadavg(), ...conditions });
    }
  }
  await queue.close();
  redis.disconnect();
  await pool.end();
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
