/**
 * Routing decision benchmark: screening + discovery + auction, with their Redis round trips (compliance
 * lookup, cap reservation), on the real Postgres and Redis, with 100,000 DNC entries. Prints one JSON line per
 * figure, with the scenario and the mean number of eligible targets per decision (`eligible`) in its conditions.
 * Three campaigns of 1,000 buyer targets each (--targets), one per scenario (--scenarios picks some):
 *   - mixed: the original mix (most nationwide, some state- or area-code-targeted, some unfunded buyers);
 *   - all: every target eligible for every call (nationwide, funded, a third with 24/7 open hours);
 *   - few: 50 eligible, the other 950 kept out by geography (other states, other area codes) or by open hours
 *     (open only on another weekday) -- what the snapshot's indexes are for.
 * Then the outbound screening path (POST /v1/outbound-calls before dialling: campaign, calling hours, DNC lists,
 * the seller's DNC list, the consent lookup and the frequency limit counted, one Redis round trip) as
 * outbound_screen_p50_us / outbound_screen_p99_us, each consumer asked for twice (within every limit).
 *
 *   npm run bench:routing [-- --targets 1000 --dnc 100000 --calls 20000 --warmup 2000 --concurrency 1,16
 *                            --scenarios mixed,all,few --outbound true --schema bench_routing --pause-ms 0]
 * Instructions per decision under callgrind: --pause-ms 5000, then `callgrind_control -e PID` at each
 * `measure:start` / `measure:end` line on stderr (the difference over --calls).
 *
 * Uses schema `bench_routing` in DATABASE_URL and Redis prefix `bench:routing:` (both recreated); --schema NAME uses
 * schema NAME and prefix `bench:NAME:` instead (two runs at once must not share them).
 */
import os from 'node:os';
import { localParts } from '../app/domain/local-time';
import { Pool } from 'pg';
import { createPool } from '../app/store/db';
import { migrate } from '../app/store/migrate';
import { createRedis } from '../app/cache/redis';
import { ScreenAndReserve } from '../app/cache/screen-and-reserve';
import { CapLedger } from '../app/cache/cap-ledger';
import { FundHolds } from '../app/cache/fund-holds';
import { addDncNumbers, loadComplianceCache } from '../app/store/compliance-repo';
import { SnapshotSource } from '../app/exchange/snapshot-source';
import { Router } from '../app/exchange/router';
import { createLogger } from '../app/observability/logger';
import type { CallInfo } from '../app/switch/port';
import { benchFlags, pct } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['targets', 'dnc', 'calls', 'warmup', 'concurrency', 'scenarios', 'outbound', 'schema', 'pause-ms'],
  usage: `npm run bench:routing [-- options]

  --targets <n>        buyer targets per scenario's campaign (default 1000)
  --dnc <n>            DNC entries screened against (default 100000)
  --calls <n>          decisions measured per run (default 20000)
  --warmup <n>         decisions before measuring (default 2000)
  --concurrency <list> decisions in flight at once, comma-separated runs (default 1,16)
  --scenarios <list>   mixed, all, few, comma-separated (default mixed,all,few)
  --outbound <bool>    measure the outbound screening path too: true (default) or false
  --schema <name>      the Postgres schema, and Redis prefix bench:<name>: (default bench_routing, bench:routing:)
  --pause-ms <ms>      idle pauses around each measured run, announced on stderr (callgrind_control -e; default 0)
  --help               this text`,
});
const TARGETS = FLAGS.number('targets', 1000, { min: 1, integer: true });
const DNC = FLAGS.number('dnc', 100_000, { min: 0, integer: true });
const CALLS = FLAGS.number('calls', 20_000, { min: 1, integer: true });
const WARMUP = FLAGS.number('warmup', 2000, { min: 0, integer: true });
/** Idle pauses around each measured run, announced on stderr, so a tool outside can read counters (callgrind_control -e). */
const PAUSE_MS = FLAGS.number('pause-ms', 0, { min: 0 });
const CONCURRENCY = FLAGS.numbers('concurrency', [1, 16], { min: 1, integer: true });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCENARIOS = FLAGS.listOf('scenarios', ['mixed', 'all', 'few'], ['mixed', 'all', 'few']);
const OUTBOUND = FLAGS.oneOf('outbound', ['true', 'false'], 'true') === 'true';
const SCHEMA = FLAGS.string('schema', 'bench_routing');
const PREFIX = FLAGS.has('schema') ? `bench:${SCHEMA}:` : 'bench:routing:';
/** Eligible targets per decision in the `few` scenario (the rest of --targets are kept out). */
const FEW_ELIGIBLE = 50;

type ScenarioName = 'mixed' | 'all' | 'few';
/** One campaign per scenario; `mixed` keeps the original ids (campaign `bench`, targets t1..tN). */
const SCENARIO: Record<ScenarioName, { campaignId: string; did: string; targetPrefix: string }> = {
  mixed: { campaignId: 'bench', did: '+18885550100', targetPrefix: 't' },
  all: { campaignId: 'bench-all', did: '+18885550101', targetPrefix: 'a' },
  few: { campaignId: 'bench-few', did: '+18885550102', targetPrefix: 'f' },
};
/** Where the `few` scenario's geo-targeted targets are: no caller of the run is there. */
const OTHER_STATES = ['WA', 'OR', 'NV', 'UT', 'CO', 'MN', 'WI', 'MI', 'MA', 'NJ'];
const OTHER_AREA_CODES = ['206', '503', '702', '801', '303', '612', '414', '313', '617', '201'];
const STATES = ['FL', 'GA', 'TX', 'CA', 'NY', 'OH', 'IL', 'PA', 'NC', 'AZ'];
const AREA_CODES = ['813', '305', '404', '214', '415', '212', '614', '312', '215', '704', '602', '727', '954'];

function emit(name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit, buyers: TARGETS, dnc_entries: DNC, ...extra })}\n`);
}

async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  await admin.end();
  const pool = createPool({ url: DATABASE_URL, schema: SCHEMA }, logger);
  await migrate(pool, logger);
  const redis = createRedis(REDIS_URL, PREFIX, logger, 'bench');
  const subscriber = createRedis(REDIS_URL, PREFIX, logger, 'bench-sub');
  await clearPrefix(redis);

  process.stderr.write(`seeding ${TARGETS} buyer targets and ${DNC} DNC entries...\n`);
  await seed(pool, redis);
  await loadComplianceCache(pool, redis);
  const snapshots = new SnapshotSource(pool, subscriber, PREFIX, logger, { fundHolds: new FundHolds(redis) });
  await snapshots.start();
  const caps = new CapLedger(redis);
  const router = new Router({ snapshots, gate: new ScreenAndReserve(redis), caps, logger });

  const info = (i: number, did: string): CallInfo => ({
    switchCallId: `b${i}`,
    switchName: 'bench',
    // Real-looking callers across area codes; every 50th is on the DNC list (blocked at screening).
    ani: i % 50 === 0 ? dncNumber(i % DNC) : `+1${AREA_CODES[i % AREA_CODES.length]}${String(2000000 + (i % 7000000)).padStart(7, '0')}`,
    dnis: did,
    direction: 'inbound',
  });

  for (const scenario of SCENARIOS) {
    const { did } = SCENARIO[scenario];
    // Warm up (JIT, connections, formatter caches).
    for (let i = 0; i < WARMUP; i++) await decideAndRelease(router, caps, i, info(i, did));

    for (const concurrency of CONCURRENCY) {
      const latencies: number[] = [];
      let evaluated = 0;
      let eligible = 0;
      let judged = 0;
      let routed = 0;
      let next = 0;
      await pause(`measure:start ${scenario} ${concurrency}`);
      const started = process.hrtime.bigint();
      const cpuStart = process.cpuUsage();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < CALLS) {
            const i = next++;
            const t0 = process.hrtime.bigint();
            const d = await router.decide(`call-${scenario}-${concurrency}-${i}`, info(i, did), new Date());
            latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
            evaluated += d.trace.ranked.targetId.length + d.trace.excluded.targetId.length;
            if (d.trace.screening?.pass) {
              judged += 1;
              eligible += d.trace.ranked.targetId.length;
            }
            if (d.outcome === 'route') {
              routed += 1;
              await caps.release(`call-${scenario}-${concurrency}-${i}`, d.winner.counters, d.winner.hold);
            }
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = process.cpuUsage(cpuStart);
      await pause(`measure:end ${scenario} ${concurrency}`);
      const cpuUs = cpu.user + cpu.system;
      latencies.sort((a, b) => a - b);
      // eligible: targets that entered the auction, on average, over the decisions that passed screening
      const cond = { scenario, eligible: Math.round(eligible / Math.max(1, judged)), calls: CALLS, concurrency, routed, load1: Math.round(os.loadavg()[0]! * 100) / 100, cores: os.cpus().length };
      emit('routing_decision_p50_us', pct(latencies, 0.5), 'us', cond);
      emit('routing_decision_p99_us', pct(latencies, 0.99), 'us', cond);
      emit('routing_decisions_per_s', CALLS / seconds, 'decisions/s', cond);
      // This process's CPU per decision (Redis round trip included on our side): less noisy than wall clock.
      emit('routing_decision_cpu_us', cpuUs / CALLS, 'us', cond);
      // Bids judged per second of this process's CPU time (one core), Redis round trips included in the run.
      emit('bid_evaluations_per_s', evaluated / (cpuUs / 1e6), 'evaluations/s/core', cond);
    }
  }

  if (OUTBOUND) await benchOutboundScreening(pool, redis, router);

  await snapshots.stop();
  await clearPrefix(redis);
  subscriber.disconnect();
  redis.disconnect();
  await pool.end();
}

/** A consumer the outbound run calls: Florida area codes (a state frequency rule) and others (the platform default). */
const OUTBOUND_AREA_CODES = ['813', '727', '954', '214', '312', '602'];
const consumerNumber = (i: number): string => `+1${OUTBOUND_AREA_CODES[i % OUTBOUND_AREA_CODES.length]}${String(3000000 + i).padStart(7, '0')}`;

async function benchOutboundScreening(pool: Pool, redis: ReturnType<typeof createRedis>, router: Router): Promise<void> {
  // Every consumer has a live consent record (the campaign is not exempt), so each request runs every check and is
  // counted against the frequency limits; each is asked for twice, so all pass. A Wednesday noon in Florida.
  const at = new Date('2026-11-18T17:00:00Z');
  const consumersPerRun = Math.ceil(CALLS / 2);
  const runs = CONCURRENCY.length + 1; // + warm-up
  const numbers = Array.from({ length: consumersPerRun * runs }, (_, i) => consumerNumber(i));
  await pool.query(
    `INSERT INTO consent_records (campaign_id, number, lead_id, source, consented_at, expires_at, certificate_kind, certificate_id)
     SELECT 'bench', n, 'lead', 'bench', '2026-11-10T00:00:00Z', '2027-02-08T00:00:00Z', 'trustedform', 'cert-' || n FROM unnest($1::text[]) n`,
    [numbers],
  );
  await redis.del('compliance:loaded');
  await loadComplianceCache(pool, redis);
  const request = (run: number, i: number): CallInfo => ({
    switchCallId: '',
    switchName: 'bench',
    ani: numbers[run * consumersPerRun + (i % consumersPerRun)]!,
    dnis: '+18885550100',
    direction: 'outbound',
    campaignId: 'bench',
  });
  for (let i = 0; i < Math.min(CALLS, 4000); i++) await router.screenRequest(`out-warm-${i}`, request(0, i), at);
  for (const [k, concurrency] of CONCURRENCY.entries()) {
    const latencies: number[] = [];
    let passed = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < CALLS) {
          const i = next++;
          const t0 = process.hrtime.bigint();
          const d = await router.screenRequest(`out-${concurrency}-${i}`, request(k + 1, i), at);
          latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
          if (d.outcome === 'pass') passed += 1;
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const cond = { calls: CALLS, concurrency, passed, consumers: consumersPerRun, consent_records: numbers.length, frequency_limit: 'FL 3/24h + platform 3/24h', load1: Math.round(os.loadavg()[0]! * 100) / 100, cores: os.cpus().length };
    emit('outbound_screen_p50_us', pct(latencies, 0.5), 'us', cond);
    emit('outbound_screen_p99_us', pct(latencies, 0.99), 'us', cond);
  }
}

async function decideAndRelease(router: Router, caps: CapLedger, i: number, info: CallInfo): Promise<void> {
  const d = await router.decide(`warm-${i}`, info, new Date());
  if (d.outcome === 'route') await caps.release(`warm-${i}`, d.winner.counters, d.winner.hold);
}

const dncNumber = (i: number): string => `+1727${String(2000000 + i)}`;

async function seed(pool: Pool, redis: ReturnType<typeof createRedis>): Promise<void> {
  await pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'Bench seller')");
  for (const { campaignId, did } of Object.values(SCENARIO)) {
    await pool.query("INSERT INTO campaigns (id, seller_account_id, name, routing, floor_cents) VALUES ($1, 'seller', $1, 'second_price', 500)", [campaignId]);
    await pool.query("INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, $2, 'seller')", [did, campaignId]);
  }
  const buyers = Math.max(1, Math.floor(TARGETS / 4));
  await pool.query(
    `INSERT INTO accounts (id, kind, name, balance_cents, credit_limit_cents)
     SELECT 'buyer-' || g, 'buyer', 'Buyer ' || g, CASE WHEN g % 40 = 0 THEN 0 ELSE 10000000 END, 0 FROM generate_series(1, $1) g`,
    [buyers],
  );
  const alwaysOpen = { timeZone: 'America/New_York', hours: Object.fromEntries([0, 1, 2, 3, 4, 5, 6].map((d) => [d, [[0, 1440]]])) };
  // Open all day, but only on the weekday three days from now in New York: closed for the whole run.
  const otherDay = (localParts(new Date(), 'America/New_York').weekday + 3) % 7;
  const closedToday = { timeZone: 'America/New_York', hours: { [otherDay]: [[0, 1440]] } };
  /** A funded buyer (every 40th buyer has no money). */
  const fundedBuyer = (i: number): string => {
    const g = 1 + (i % buyers);
    return `buyer-${g % 40 === 0 && buyers > 1 ? 1 + (g % buyers) : g}`;
  };
  const rows: unknown[][] = [];
  for (let i = 1; i <= TARGETS; i++) {
    const bid = 500 + ((i * 7919) % 5000);
    const quality = (i % 97) / 100 + 0.03;
    // mixed: most targets nationwide, some state- or area-code-targeted, some with business hours, every target with
    // concurrency and daily caps (so every winner's reservation does real work).
    const targeting = i % 5 === 0 ? { states: [STATES[i % STATES.length], STATES[(i + 3) % STATES.length]] } : i % 7 === 0 ? { areaCodes: AREA_CODES.slice(i % 5, (i % 5) + 4) } : {};
    rows.push([`t${i}`, `buyer-${1 + (i % buyers)}`, bid, JSON.stringify(targeting), i % 3 === 0 ? JSON.stringify(alwaysOpen) : null, quality, 'bench']);
    // all: every target may take every call.
    rows.push([`a${i}`, fundedBuyer(i), bid, '{}', i % 3 === 0 ? JSON.stringify(alwaysOpen) : null, quality, 'bench-all']);
    // few: every (TARGETS / 50)th target is eligible (half of them with 24/7 hours), spread over the auction order;
    // of the rest, 60% target other states, 20% other area codes, 20% are open only on another day.
    const stride = Math.max(1, Math.floor(TARGETS / FEW_ELIGIBLE));
    let few: [object, object | null];
    if (i % stride === 0) few = [{}, (i / stride) % 2 === 0 ? alwaysOpen : null];
    else if (i % 5 < 3) few = [{ states: [OTHER_STATES[i % OTHER_STATES.length], OTHER_STATES[(i + 3) % OTHER_STATES.length]] }, null];
    else if (i % 5 === 3) few = [{ areaCodes: OTHER_AREA_CODES.slice(i % 5, (i % 5) + 4) }, null];
    else few = [{}, closedToday];
    rows.push([`f${i}`, fundedBuyer(i), bid, JSON.stringify(few[0]), few[1] && JSON.stringify(few[1]), quality, 'bench-few']);
  }
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values = chunk.map((_, j) => `($${j * 7 + 1}, $${j * 7 + 2}, $${j * 7 + 7}, 'target', $${j * 7 + 3}, 'sip:' || $${j * 7 + 1} || '@buyers.example', $${j * 7 + 4}, $${j * 7 + 5}, 1000000, 10000000, $${j * 7 + 6})`);
    await pool.query(
      `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, targeting, schedule, cap_concurrency, cap_daily, quality_score) VALUES ${values.join(',')}`,
      chunk.flat(),
    );
  }
  const numbers = Array.from({ length: DNC }, (_, i) => dncNumber(i));
  for (let i = 0; i < numbers.length; i += 10_000) await addDncNumbers(pool, redis, 'global', numbers.slice(i, i + 10_000), 'bench');
}

async function clearPrefix(redis: ReturnType<typeof createRedis>): Promise<void> {
  const raw = redis.duplicate({ keyPrefix: '' });
  let cursor = '0';
  do {
    const [nextCursor, keys] = await raw.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length) await raw.del(...keys);
  } while (cursor !== '0');
  raw.disconnect();
}

async function pause(marker: string): Promise<void> {
  if (PAUSE_MS <= 0) return;
  process.stderr.write(`${marker}\n`);
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
