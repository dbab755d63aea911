/**
 * Call setup benchmark through a switch peer: an exchange node in a child process (real Postgres and
 * Redis, the real switch adapter), driven by the peer in this process over real sockets.
 *
 *   npm run bench:cps [-- --switch freeswitch|asterisk --cps 500,1000 (Asterisk: 300) --seconds 10 --warmup-seconds 5
 *                        --concurrent 10000 --buyers 50]
 *
 * Asterisk prints ari_call_setup_cps, ari_call_setup_p50_ms and ari_call_setup_p99_ms (StasisStart to the first
 * buyer originate) and ari_concurrent_calls instead of the esl_ figures.
 *
 * Prints JSON lines: esl_call_setup_cps (calls per second sustained, every call bridged), esl_call_setup_p50_ms
 * and esl_call_setup_p99_ms (socket connect to the bridge command), per rate; esl_concurrent_calls (calls held
 * up at once, without errors). Uses schema `bench_cps` of DATABASE_URL and the Redis prefix `bench:cps:`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { FreeSwitchPeer } from '../test/peers/freeswitch';
import { AsteriskPeer } from '../test/peers/asterisk';
import { CallDriver, percentile, type CallPlacer } from './load/call-driver';
import { asteriskPlacer, freeswitchPlacer } from './load/placers';
import { freshBenchState, untilReady } from './load/bench-state';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const SECONDS = Number(arg('seconds', '10'));
const CONCURRENT = Number(arg('concurrent', '10000'));
const BUYERS = Number(arg('buyers', '50'));
const TALK_MS = Number(arg('talk-ms', '1000'));
const SWITCH = arg('switch', 'freeswitch');
if (SWITCH !== 'freeswitch' && SWITCH !== 'asterisk') throw new Error(`--switch must be freeswitch or asterisk, not '${SWITCH}'`);
/** Rates to measure, by default each switch's target: 500 calls/s through FreeSWITCH (and 1,000), 300 through Asterisk. */
const RATES = arg('cps', SWITCH === 'asterisk' ? '300' : '500,1000').split(',').map(Number);
/** The figures' prefix: esl_ for FreeSWITCH, ari_ for Asterisk. */
const FIGURE = SWITCH === 'asterisk' ? 'ari' : 'esl';
const WARMUP_SECONDS = Number(arg('warmup-seconds', '5'));
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_cps';
const PREFIX = 'bench:cps:';
const DIDS = ['+18885550500', '+18885550501', '+18885550502'];

const emit = (name: string, value: number, unit: string, extra: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ name, value: Math.round(value * 100) / 100, unit, switch: SWITCH, buyers: BUYERS, ...extra })}\n`);
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system, in microseconds) a process has used so far, from /proc (Linux); undefined elsewhere. */
function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": field 3 onward
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

async function seed(): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
}

async function seedRows(): Promise<void> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 1, options: `-c search_path=${SCHEMA}` });
  await pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'Bench seller')");
  await pool.query("INSERT INTO campaigns (id, seller_account_id, name, routing, floor_cents) VALUES ('bench', 'seller', 'Bench', 'second_price', 100)");
  for (const did of DIDS) await pool.query("INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, 'bench', 'seller')", [did]);
  await pool.query(`INSERT INTO accounts (id, kind, name, balance_cents) SELECT 'buyer-' || g, 'buyer', 'Buyer ' || g, 100000000 FROM generate_series(1, $1) g`, [BUYERS]);
  await pool.query(
    `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, cap_concurrency, cap_daily, quality_score)
     SELECT 't' || g, 'buyer-' || g, 'bench', 'target', 500 + (g * 37) % 3000, '+1555123' || lpad(g::text, 4, '0'), 100000, 100000000, 0.5 + (g % 50) / 100.0
     FROM generate_series(1, $1) g`,
    [BUYERS],
  );
  await pool.end();
}

/** The recorder runs as its own process, as in a deployment that keeps call nodes for calls. */
function startRecorder(): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'app', 'recorder-main.ts')], {
    env: { ...process.env, DATABASE_URL, DATABASE_SCHEMA: SCHEMA, REDIS_URL, REDIS_PREFIX: PREFIX, LOG_LEVEL: 'warn', MIGRATE_ON_START: 'false' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function startExchange(switchEnv: Record<string, string>, httpPort: number): Promise<ChildProcess> {
  // BENCH_PROFILE_DIR=dir writes a CPU profile of the exchange process there (for finding where time goes).
  const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, `--max-semi-space-size=${process.env.NODE_SEMI_SPACE_MB ?? '8'}`, '--import', 'tsx', path.join(__dirname, '..', 'app', 'main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL,
      DATABASE_SCHEMA: SCHEMA,
      REDIS_URL,
      REDIS_PREFIX: PREFIX,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      LOG_LEVEL: 'warn',
      RECORDER_ENABLED: 'false',
      // A call node: billing and fraud jobs are left to `npm run worker` processes (the recorder process still
      // enqueues them), and this bench runs none. Fraud scoring would also take the bench's synthetic traffic (one
      // seller, no attestation, 50 ms warm-up calls) for fraud and pause its tracking numbers mid-run.
      BILLING_WORKER_ENABLED: 'false',
      FRAUD_WORKER_ENABLED: 'false',
      ...switchEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await untilReady(child, httpPort);
  return child;
}

/** The switch peer this process plays, and the exchange settings that point at it. */
async function startPeer(): Promise<{ placer: CallPlacer; switchEnv: Record<string, string>; close(): Promise<void> }> {
  if (SWITCH === 'asterisk') {
    const peer = new AsteriskPeer({ app: 'callx', record: false, username: 'callx', password: 'bench' });
    peer.buyers.fallback = { kind: 'answer', afterMs: 20 };
    await peer.listen(0, '127.0.0.1');
    return {
      placer: asteriskPlacer(peer),
      switchEnv: { SWITCHES: 'asterisk', ARI_URL: peer.url, ARI_USERNAME: 'callx', ARI_PASSWORD: 'bench', ARI_APP: 'callx', ARI_BUYER_TRUNK: 'buyers' },
      close: () => peer.close(),
    };
  }
  const peer = new FreeSwitchPeer({ detail: 'lean', record: false });
  peer.buyers.fallback = { kind: 'answer', afterMs: 20 };
  const eslPort = await peer.listenInbound(0, '127.0.0.1');
  const outboundPort = await freePort();
  return {
    placer: freeswitchPlacer(peer, { host: '127.0.0.1', port: outboundPort }),
    switchEnv: {
      SWITCHES: 'freeswitch',
      FS_OUTBOUND_HOST: '127.0.0.1',
      FS_OUTBOUND_PORT: String(outboundPort),
      FS_ESL_PORT: String(eslPort),
      FS_ESL_PASSWORD: 'ClueCon', // the peer's password
      FS_BUYER_GATEWAY: 'buyers',
    },
    close: () => peer.inbound.close(),
  };
}

async function main(): Promise<void> {
  await seed();
  const { placer, switchEnv, close } = await startPeer();
  const exchange = await startExchange(switchEnv, await freePort());
  const recorder = startRecorder();
  await seedRows();
  // Seeded after start (migrations ran in the child): reload through the API-less path, a config-changed message.
  const redis = new Redis(REDIS_URL);
  await redis.publish(`${PREFIX}config-changed`, JSON.stringify({ what: 'bench seed' }));
  redis.disconnect();
  await new Promise((r) => setTimeout(r, 500));

  try {
    // Warm-up
    const warm = new CallDriver(placer, { dnis: DIDS, talkMs: 50, firstAni: 1_000_000 });
    await warm.runRate(200, 3);
    await warm.settle();
    if (warm.stats.bridged === 0) throw new Error(`warm-up bridged no call: ${JSON.stringify(Object.fromEntries(warm.stats.errors))}`);

    // Warm-up, not measured: the first seconds of a fresh process are JIT compilation and connection set-up.
    if (WARMUP_SECONDS > 0) {
      const warm = new CallDriver(placer, { dnis: DIDS, talkMs: TALK_MS, firstAni: 2_000_000 });
      await warm.runRate(RATES[0]!, WARMUP_SECONDS);
      await warm.settle();
    }
    for (const cps of RATES) {
      const driver = new CallDriver(placer, { dnis: DIDS, talkMs: TALK_MS, firstAni: 3_000_000 + cps * 1000 });
      const started = Date.now();
      const cpu0 = processCpuUs(exchange.pid);
      await driver.runRate(cps, SECONDS);
      const placingSec = (Date.now() - started) / 1000;
      await driver.settle();
      const cpu1 = processCpuUs(exchange.pid);
      const s = driver.stats;
      // The exchange process's CPU per call over placing and settling the calls (set-up, talk and end of each).
      const cpuPerCall = cpu0 !== undefined && cpu1 !== undefined && s.placed > 0 ? Math.round((cpu1 - cpu0) / s.placed) : undefined;
      const cond = { target_cps: cps, seconds: SECONDS, calls: s.placed, bridged: s.bridged, failed: s.failed, stuck: s.errors.get('stuck') ?? 0, talk_ms: TALK_MS, warmup_seconds: WARMUP_SECONDS, exchange_cpu_us_per_call: cpuPerCall };
      emit(`${FIGURE}_call_setup_cps`, s.failed === 0 ? s.placed / placingSec : (s.bridged / s.placed) * (s.placed / placingSec), 'calls/s', cond);
      emit(`${FIGURE}_call_setup_p50_ms`, percentile(s.setupMs, 0.5), 'ms', cond);
      emit(`${FIGURE}_call_setup_p99_ms`, percentile(s.setupMs, 0.99), 'ms', cond);
      if (s.failed || s.errors.size) process.stderr.write(`failures at ${cps} cps: ${JSON.stringify(Object.fromEntries(s.errors))}\n`);
    }

    // Concurrency: ramp up calls that stay bridged, count them, then hang them all up.
    const hold = new CallDriver(placer, { dnis: DIDS, talkMs: 10 * 60_000, firstAni: 6_000_000 });
    const sessions: Array<ReturnType<CallDriver['place']>> = [];
    const rampCps = 500;
    const rampStart = Date.now();
    while (sessions.length < CONCURRENT) {
      const due = Math.min(CONCURRENT, Math.floor(((Date.now() - rampStart) / 1000) * rampCps));
      while (sessions.length < due) sessions.push(hold.place());
      await new Promise((r) => setTimeout(r, 10));
    }
    const deadline = Date.now() + 60_000;
    let up = 0;
    while (Date.now() < deadline) {
      up = placer.bridgedNow();
      if (up + hold.stats.failed >= CONCURRENT) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    emit(`${FIGURE}_concurrent_calls`, up, 'calls', { target: CONCURRENT, failed: hold.stats.failed, ramp_cps: rampCps });
    for (const s of sessions) s.hangup();
    await hold.settle();
  } finally {
    exchange.kill('SIGTERM');
    recorder.kill('SIGTERM');
    await Promise.all([new Promise((r) => exchange.once('exit', r)), new Promise((r) => recorder.once('exit', r))]);
    await close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
