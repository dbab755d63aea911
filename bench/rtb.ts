/**
 * RTB benchmark (issue 15): auctions among 20 RTB buyers answering in 5-50 ms under a 100 ms tmax, started at a
 * fixed rate (200 auctions/s, open loop: an auction starts on schedule whether or not the earlier ones ended).
 * The buyers are served by ANOTHER process (bench/rtb-buyer.ts, the sample buyer server) on this machine.
 *
 * It drives the router's decision entry (Router.decide: screening, discovery, the pings, the auction, and the one
 * Redis round trip that reserves the winner) directly, as bench/routing.ts does, not calls through a switch peer;
 * each winner's reservation is released at once. Real Postgres and Redis. Prints one JSON line per figure:
 * rtb_auctions_per_s, rtb_decision_p50_ms, rtb_decision_p99_ms, rtb_pings_per_s, rtb_late_share,
 * rtb_exchange_cpu_us_per_auction, rtb_buyers_cpu_us_per_auction, rtb_connections_opened (during the run: keep-alive
 * reuse). Target: p99 within tmax + 10 ms. Run it as the node would run with RTB traffic: NODE_SEMI_SPACE_MB=32
 * (README "Operations": with the default 8 MB, garbage collection costs each auction about a third more CPU).
 *
 *   npm run bench:rtb [-- --rate 200 --seconds 10 --warmup-seconds 2 --buyers 20 --tmax 100 --min-delay-ms 5 --max-delay-ms 50]
 *
 * Uses schema `bench_rtb` in DATABASE_URL and Redis prefix `bench:rtb:` (both recreated).
 */
import os from 'node:os';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { createPool } from '../app/store/db';
import { migrate } from '../app/store/migrate';
import { createRedis } from '../app/cache/redis';
import { ScreenAndReserve } from '../app/cache/screen-and-reserve';
import { CapLedger } from '../app/cache/cap-ledger';
import { FundHolds } from '../app/cache/fund-holds';
import { loadComplianceCache } from '../app/store/compliance-repo';
import { SnapshotSource } from '../app/exchange/snapshot-source';
import { Router } from '../app/exchange/router';
import { RtbPinger } from '../app/exchange/rtb-pinger';
import { createLogger } from '../app/observability/logger';
import type { CallInfo } from '../app/switch/port';
import { freshBenchState } from './load/bench-state';
import { benchFlags, pct } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['rate', 'seconds', 'warmup-seconds', 'buyers', 'tmax', 'min-delay-ms', 'max-delay-ms'],
  usage: `npm run bench:rtb [-- options]

  --rate <n>            auctions started per second, open loop (default 200)
  --seconds <n>         how long auctions are started (default 10)
  --warmup-seconds <n>  warm-up at the rate before measuring (default 2)
  --buyers <n>          RTB buyers pinged in every auction (default 20)
  --tmax <ms>           how long an auction waits for the buyers (default 100)
  --min-delay-ms <ms>   the buyers' shortest answer time (default 5)
  --max-delay-ms <ms>   their longest (default 50)
  --help                this text`,
});
const RATE = FLAGS.number('rate', 200, { min: 0.1 });
const SECONDS = FLAGS.number('seconds', 10, { min: 0.1 });
const WARMUP_SECONDS = FLAGS.number('warmup-seconds', 2, { min: 0 });
const BUYERS = FLAGS.number('buyers', 20, { min: 1, integer: true });
const TMAX = FLAGS.number('tmax', 100, { min: 1, integer: true });
const MIN_DELAY = FLAGS.number('min-delay-ms', 5, { min: 0 });
const MAX_DELAY = FLAGS.number('max-delay-ms', 50, { min: MIN_DELAY });
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_rtb';
const PREFIX = 'bench:rtb:';
const AREA_CODES = ['813', '305', '404', '214', '415', '212', '614', '312', '215', '704', '602', '727', '954'];

function emit(name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  const cond = { rate_per_s: RATE, seconds: SECONDS, rtb_buyers: BUYERS, tmax_ms: TMAX, buyer_delay_ms: `${MIN_DELAY}-${MAX_DELAY}`, buyers_process: 'separate', entry: 'Router.decide', load1: Math.round(os.loadavg()[0]! * 100) / 100, cores: os.cpus().length, semi_space_mb: Number(process.env.NODE_SEMI_SPACE_MB ?? 8) };
  process.stdout.write(`${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit, ...cond, ...extra })}\n`);
}

async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const buyerProcess = await startBuyers();
  try {
    await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
    const pool = createPool({ url: DATABASE_URL, schema: SCHEMA }, logger);
    await migrate(pool, logger);
    await seed(pool, buyerProcess.port);
    const redis = createRedis(REDIS_URL, PREFIX, logger, 'bench');
    const subscriber = createRedis(REDIS_URL, PREFIX, logger, 'bench-sub');
    await loadComplianceCache(pool, redis);
    const snapshots = new SnapshotSource(pool, subscriber, PREFIX, logger, { fundHolds: new FundHolds(redis) });
    await snapshots.start();
    const caps = new CapLedger(redis);
    const rtb = new RtbPinger({ callerHashSalt: 'bench', maxInFlightPerBuyer: 64, breaker: { failures: 1000, coolOffMs: 1000 }, lateGraceMs: 1000, allowPrivateAddresses: true });
    const router = new Router({ snapshots, gate: new ScreenAndReserve(redis), caps, rtb, logger });

    const info = (i: number): CallInfo => ({
      switchCallId: `r${i}`,
      switchName: 'bench',
      ani: `+1${AREA_CODES[i % AREA_CODES.length]}${String(2000000 + (i % 7000000)).padStart(7, '0')}`,
      dnis: '+18885550100',
      direction: 'inbound',
      zip: '60601',
    });

    process.stderr.write(`warming up for ${WARMUP_SECONDS} s...\n`);
    await run(router, caps, info, 'warm', WARMUP_SECONDS);
    const pingsBefore = totalPings(rtb);
    const buyerCpuBefore = await buyerProcess.cpuUs();
    const connectionsBefore = await buyerProcess.connections();
    const cpuStart = process.cpuUsage();
    const r = await run(router, caps, info, 'run', SECONDS);
    const cpu = process.cpuUsage(cpuStart);
    const buyerCpu = (await buyerProcess.cpuUs()) - buyerCpuBefore;
    const connections = (await buyerProcess.connections()) - connectionsBefore; // the /stats requests reuse fetch's connection
    const pings = totalPings(rtb) - pingsBefore;
    const lat = r.latenciesMs.sort((a, b) => a - b);
    const cond = { auctions: lat.length, routed: r.routed, bids_per_auction: Math.round((r.bids / lat.length) * 10) / 10 };
    emit('rtb_auctions_per_s', lat.length / r.seconds, 'auctions/s', cond);
    emit('rtb_decision_p50_ms', pct(lat, 0.5), 'ms', cond);
    emit('rtb_decision_p99_ms', pct(lat, 0.99), 'ms', { ...cond, target_ms: TMAX + 10 });
    emit('rtb_pings_per_s', pings / r.seconds, 'pings/s', cond);
    emit('rtb_late_share', r.late / Math.max(1, pings), 'share of pings', cond);
    emit('rtb_exchange_cpu_us_per_auction', (cpu.user + cpu.system) / lat.length, 'us/auction', cond);
    emit('rtb_buyers_cpu_us_per_auction', buyerCpu / lat.length, 'us/auction', cond);
    emit('rtb_connections_opened', connections, 'connections', { ...cond, pings });

    rtb.close();
    await snapshots.stop();
    subscriber.disconnect();
    redis.disconnect();
    await pool.end();
  } finally {
    buyerProcess.stop();
  }
}

/** Starts auctions at RATE per second for `seconds`, each at its scheduled time; resolves when all have ended. */
async function run(router: Router, caps: CapLedger, info: (i: number) => CallInfo, tag: string, seconds: number) {
  const total = Math.round(RATE * seconds);
  const intervalMs = 1000 / RATE;
  const latenciesMs: number[] = [];
  let routed = 0;
  let bids = 0;
  let late = 0;
  const running: Array<Promise<void>> = [];
  const started = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      while (i < due) {
        const n = i++;
        const callId = `${tag}-${n}`;
        running.push((async () => {
          const t0 = performance.now();
          const d = await router.decide(callId, info(n), new Date());
          latenciesMs.push(performance.now() - t0);
          bids += d.trace.ranked.targetId.length;
          late += d.trace.excluded.reason.filter((x) => x === 'bid_timeout').length;
          if (d.outcome === 'route') {
            routed++;
            await caps.release(callId, d.winner.counters, d.winner.hold);
          }
        })());
      }
      if (i < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(running);
  return { latenciesMs, routed, bids, late, seconds: (performance.now() - started) / 1000 };
}

const totalPings = (rtb: RtbPinger): number => rtb.allStats().reduce((n, s) => n + s.pings, 0);

/** The sample buyer server in its own process; its CPU time read from its /stats. */
async function startBuyers(): Promise<{ port: number; cpuUs: () => Promise<number>; connections: () => Promise<number>; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'rtb-buyer.ts'), '--port', '0', '--buyers', String(BUYERS), '--min-delay-ms', String(MIN_DELAY), '--max-delay-ms', String(MAX_DELAY)], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.once('exit', () => child.kill('SIGTERM')); // never leave the buyers running, whatever ends this process
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the buyer process exited (${code})`)));
  });
  const stats = async () => (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { cpuUserUs: number; cpuSystemUs: number; connections: number };
  const cpuUs = async (): Promise<number> => {
    const s = await stats();
    return s.cpuUserUs + s.cpuSystemUs;
  };
  return { port, cpuUs, connections: async () => (await stats()).connections, stop: () => child.kill('SIGTERM') };
}

async function seed(pool: ReturnType<typeof createPool>, port: number): Promise<void> {
  await pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'Bench seller')");
  await pool.query(
    `INSERT INTO campaigns (id, seller_account_id, name, routing, floor_cents, bid_deadline_ms, rtb_share)
     VALUES ('bench', 'seller', 'Bench', 'second_price', 100, $1, '["areaCode","callerHash","state","zip","localTime"]')`,
    [TMAX],
  );
  await pool.query("INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ('+18885550100', 'bench', 'seller')");
  for (let b = 1; b <= BUYERS; b++) {
    await pool.query("INSERT INTO accounts (id, kind, name, balance_cents) VALUES ($1, 'buyer', $1, 1000000000)", [`buyer-${b}`]);
    await pool.query(
      `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, rtb_url)
       VALUES ($1, $2, 'bench', $1, 0, 'sip:' || $1 || '@buyers.example', $3)`,
      [`t${b}`, `buyer-${b}`, `http://127.0.0.1:${port}/b${b}`],
    );
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
