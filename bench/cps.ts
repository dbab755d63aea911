/**
 * Call setup benchmark through a switch peer: exchange node(s) in child processes (real Postgres and Redis, the
 * real switch adapter), driven by the peer in this process over real sockets. The figure that counts is CPU per
 * call of each process, over the steady phase only, with setup latency at the rate it ran.
 *
 *   npm run bench:cps [-- --switch freeswitch|asterisk --cps 300 --seconds 20 --warmup-seconds 5 --idle-seconds 5
 *                        --mode both|inprocess|split|bare (--split: split only) --nodes 1|2 --log-level info --workers on|off
 *                        --peer-detail full|lean --concurrent 10000 --buyers 50]
 *
 * Modes: `inprocess` runs one node as `npm start` does by default (app/main.ts: recorder, billing and fraud
 * workers in the process, LOG_LEVEL info), under tsx (`node --import tsx app/main.ts`, the same code `npm start`
 * runs compiled; `--dist` runs dist/app/main.js if built); `split` runs the node with RECORDER_ENABLED,
 * BILLING_WORKER_ENABLED and FRAUD_WORKER_ENABLED false, plus `npm run recorder` and `npm run worker` processes.
 * `both` (the default) runs one then the other, each on a fresh schema. `bare` (FreeSWITCH) runs
 * bench/load/bare-esl-app.ts in place of the exchange: the protocol alone, the floor under the exchange's figure.
 *
 * Per mode and rate, one JSON line per figure, each with `mode` and the run's conditions:
 * - `exchange_cpu_ms_per_call`, `recorder_cpu_ms_per_call`, `worker_cpu_ms_per_call` (split only: in-process they
 *   are inside the exchange's figure), `postgres_cpu_ms_per_call` (the whole cluster), `redis_cpu_ms_per_call`
 *   (redis-server), `peer_cpu_ms_per_call` (this process: the switch peer and the load generator) and
 *   `platform_cpu_ms_per_call` (exchange + recorder + worker + Postgres + Redis), all over the steady window (from
 *   when the first calls end, a talk time after the rate starts, to its last call placed) divided by the calls that
 *   finished in it;
 * - `esl_commands_per_call`, `esl_events_per_call` and `esl_event_bytes_per_call` counted by the peer (Asterisk:
 *   `ari_requests_per_call`, `ari_events_per_call`, `ari_event_bytes_per_call`) over the whole rate, from its first
 *   call to the end of its last, divided by its calls (exact, where a window's edges are not), so they include the
 *   node's periodic commands (and, on Asterisk, bridges made for a rate that needs more than the pool kept);
 *   `exchange_log_bytes_per_call`,
 *   `postgres_for_<process>_cpu_ms_per_call` (Postgres split by whose connections it served), and
 *   `exchange_wakeups_per_call` / `exchange_preemptions_per_call` (the node's voluntary / involuntary context switches),
 *   `exchange_read_syscalls_per_call` / `exchange_write_syscalls_per_call` (its socket reads and writes, from /proc/<pid>/io);
 * - `peer_allocated_kb_per_call` and `peer_gc_pause_ms_per_call`: this process's JS heap allocation and GC pauses
 *   over the steady window (V8's GC profiler; the line carries the collections and the longest pause). The peer is
 *   the clock of the setup figures below, so its pauses land in their p99; allocation is a count the load does not move;
 * - `esl_call_setup_cps`, `esl_call_setup_p50_ms`, `esl_call_setup_p99_ms` (from the moment the peer places the call,
 *   just before the `socket` application's TCP connect, to the peer handling the bridge command, both read on this
 *   process's clock; Asterisk: `ari_...`, StasisStart to the first buyer originate);
 * - once per mode, before any measured call: `<process>_idle_cpu_ms_per_s`, each process's CPU per second with no
 *   calls (timers, heartbeats, queue polling: the fixed cost that low rates divide among few calls; Postgres and
 *   Redis are shared with whatever else runs on the machine, so theirs is also the noise floor);
 * - at the end: `esl_concurrent_calls` (calls held up at once; `--concurrent 0` skips it).
 * With `--nodes 2` (FreeSWITCH): two nodes, the peer lists both as the `socket` destinations (calls alternate, a
 * refused one fails over), the first-ranked target has a concurrency cap of 5 and the second-ranked buyer funds for
 * 40 calls at once;
 * prints `calls_per_node`, `cap_overruns` (calls bridged to the capped target beyond its cap at once, as the peer
 * saw them) and `hold_overruns` (samples where that buyer's holds exceeded its funds, plus 1 if its balance ended
 * below zero); both must be 0.
 * Uses schema `bench_cps` of DATABASE_URL and the Redis prefix `bench:cps:` (both emptied first); --schema NAME
 * uses schema NAME and prefix `bench:NAME:` instead, so two runs on one server do not clash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, statSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { FreeSwitchPeer } from '../test/peers/freeswitch';
import { AsteriskPeer, confPeerOptions } from '../test/peers/asterisk';
import type { CallRecord } from '../test/peers/freeswitch/session';
import { CallDriver, percentile, type CallPlacer } from './load/call-driver';
import { asteriskPlacer, freeswitchPlacer } from './load/placers';
import { freshBenchState, untilReady } from './load/bench-state';
import { contextSwitches, cpuBetween, ioSyscalls, pidsCpuMs, postgresClusterCpuMs, processCpuMs, sampleCpu, type CpuGroups } from './load/proc-cpu';
import { BridgeOverlap } from './load/bridge-overlap';
import { benchFlags } from './load/bench-args';
import { startStallProbe } from './load/stall-probe';
import { SlowSetups } from './load/slow-setups';
import { startHeapWindow, type HeapWindow } from './load/heap-allocation';
import { startPostgresBackendWatcher } from './load/pg-backend-watcher';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['switch', 'cps', 'seconds', 'warmup-seconds', 'idle-seconds', 'mode', 'nodes', 'log-level', 'workers', 'peer-detail', 'concurrent', 'buyers', 'talk-ms', 'schema'],
  switches: ['split', 'dist'],
  usage: `npm run bench:cps [-- options]

  --switch <name>          freeswitch (default) or asterisk
  --cps <list>             rates to measure, calls per second, comma-separated (default 300)
  --seconds <n>            how long each rate runs (default 20; more than the steady window's start + 1)
  --warmup-seconds <n>     warm-up at the highest rate before measuring (default 5)
  --idle-seconds <n>       how long each process's idle CPU is sampled (default 5)
  --mode <mode>            both (default), inprocess, split, or bare (FreeSWITCH: a bare app that only speaks the
                           exchange's ESL for each call, in place of the exchange: the floor of its CPU per call)
  --split                  short for --mode split
  --nodes <n>              1 (default) or 2 exchange nodes (2: FreeSWITCH only)
  --log-level <level>      the nodes' LOG_LEVEL (default info)
  --workers <on|off>       in-process mode: the billing and fraud workers in the node (default on)
  --peer-detail <detail>   full (default: events as big as a real switch's) or lean
  --concurrent <n>         calls held up at once at the end (default 10000; 0 skips it)
  --buyers <n>             buyer targets (default 50)
  --talk-ms <ms>           how long a bridged caller talks (default 1000)
  --dist                   run dist/app/main.js (after npm run build) instead of app/main.ts under tsx
  --schema <name>          the Postgres schema, and Redis prefix bench:<name>: (default bench_cps, bench:cps:)
  --help                   this text`,
});
const SECONDS = FLAGS.number('seconds', 20, { min: 1 });
const CONCURRENT = FLAGS.number('concurrent', 10_000, { min: 0, integer: true });
const BUYERS = FLAGS.number('buyers', 50, { min: 1, integer: true });
const TALK_MS = FLAGS.number('talk-ms', 1000, { min: 0 });
const SWITCH = FLAGS.oneOf('switch', ['freeswitch', 'asterisk'], 'freeswitch');
const RATES = FLAGS.numbers('cps', [300], { min: 0.1 });
/** `--split` is short for `--mode split`. */
const MODE = FLAGS.has('split') ? 'split' : FLAGS.oneOf('mode', ['both', 'inprocess', 'split', 'bare'], 'both');
type Mode = 'inprocess' | 'split' | 'bare';
const MODES: Mode[] = MODE === 'both' ? ['inprocess', 'split'] : [MODE];
if (MODE === 'bare' && (SWITCH !== 'freeswitch' || FLAGS.has('nodes'))) FLAGS.problem('--mode bare runs one bare app behind the FreeSWITCH peer: no --switch asterisk, no --nodes');
const NODES = FLAGS.number('nodes', 1, { min: 1, max: 2, integer: true });
if (NODES > 1 && SWITCH !== 'freeswitch') FLAGS.problem('--nodes 2 needs --switch freeswitch (the peer lists both nodes as socket destinations)');
if (NODES > 1 && BUYERS < 2) FLAGS.problem('--nodes 2 needs --buyers 2 or more (a capped target and a held buyer)');
const LOG_LEVEL = FLAGS.oneOf('log-level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info');
/** In-process mode: the billing and fraud workers in the node (on, as by default) or not. */
const WORKERS = FLAGS.oneOf('workers', ['on', 'off'], 'on') === 'on';
/**
 * `full`: events as a real switch sends them (FreeSWITCH: the recordings' ~160 variables in each; Asterisk: the
 * ChannelVarset and ConnectedLine chatter); `lean`: FreeSWITCH events with only what apps read, Asterisk without chatter.
 */
const PEER_DETAIL = FLAGS.oneOf('peer-detail', ['full', 'lean'], 'full');
const RUNTIME = FLAGS.has('dist') ? 'dist' : 'tsx';
/** The figures' prefix: esl_ for FreeSWITCH, ari_ for Asterisk. */
const FIGURE = SWITCH === 'asterisk' ? 'ari' : 'esl';
const WARMUP_SECONDS = FLAGS.number('warmup-seconds', 5, { min: 0 });
const IDLE_SECONDS = FLAGS.number('idle-seconds', 5, { min: 0 });
/** The steady window opens once calls end as fast as they start: a talk time (at least 1 s) after the first. */
const STEADY_FROM_SEC = Math.max(1, Math.ceil(TALK_MS / 1000));
if (SECONDS <= STEADY_FROM_SEC + 1) FLAGS.problem(`--seconds must be more than ${STEADY_FROM_SEC + 1} for a steady window (with --talk-ms ${TALK_MS})`);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = FLAGS.string('schema', 'bench_cps');
// Dropped and recreated by name: a plain identifier only.
if (!/^[a-z_][a-z0-9_]{0,62}$/.test(SCHEMA)) FLAGS.problem(`--schema must be a lower-case SQL identifier (letters, digits, _), not "${SCHEMA}"`);
const PREFIX = FLAGS.has('schema') ? `bench:${SCHEMA}:` : 'bench:cps:';
const DIDS = ['+18885550500', '+18885550501', '+18885550502'];
const bidOf = (g: number): number => 500 + ((g * 37) % 3000);
/** Buyers by rank as seeded (bid x quality score, highest first): the auction's order for every call. */
const RANKED = Array.from({ length: BUYERS }, (_, i) => i + 1).sort((a, b) => bidOf(b) * (0.5 + (b % 50) / 100) - bidOf(a) * (0.5 + (a % 50) / 100));
/** --nodes 2: the first-ranked target (capped at CAP calls at once) and the second-ranked buyer (funds for HELD_CALLS calls at its bid). */
const CAPPED_G = RANKED[0]!;
const HELD_G = RANKED[1]!;
const CAPPED_TARGET = `t${CAPPED_G}`;
const CAP = 5;
const HELD_BUYER = `buyer-${HELD_G}`;
const HELD_CALLS = 40;
const destinationOf = (g: number): string => `+1555123${String(g).padStart(4, '0')}`;

const emit = (name: string, value: number | undefined, unit: string, extra: Record<string, unknown>): void => {
  if (value === undefined || !Number.isFinite(value)) return;
  process.stdout.write(
    `${JSON.stringify({ name, value: Math.round(value * 1000) / 1000, unit, switch: SWITCH, buyers: BUYERS, nodes: NODES, log_level: LOG_LEVEL, peer_detail: PEER_DETAIL, runtime: RUNTIME, ...extra })}\n`,
  );
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
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
  if (NODES > 1) {
    // Limits small enough to be hit within seconds, so that two nodes sharing them is tested.
    await pool.query('UPDATE buyer_targets SET cap_concurrency = $2 WHERE id = $1', [CAPPED_TARGET, CAP]);
    await pool.query('UPDATE accounts SET balance_cents = $2 WHERE id = $1', [HELD_BUYER, HELD_CALLS * bidOf(HELD_G)]);
  }
  await pool.end();
}

/** Settings every process of the exchange shares. The fraud rules score every call but never flag the bench's
 * synthetic traffic (one seller, no attestation, short calls), which would pause its tracking numbers mid-run. */
function commonEnv(): Record<string, string> {
  return {
    DATABASE_URL,
    DATABASE_SCHEMA: SCHEMA,
    REDIS_URL,
    REDIS_PREFIX: PREFIX,
    LOG_LEVEL,
    FRAUD_SHORT_CALL_SEC: '0',
    FRAUD_SELLER_MIN_CALLS: '1000000000',
    FRAUD_VELOCITY_PER_MINUTE: '1000000000',
    FRAUD_VELOCITY_PER_HOUR: '1000000000',
    FRAUD_VELOCITY_PER_DAY: '1000000000',
  };
}

/** A child process of the exchange, its output (logs) going to a file whose growth is counted. */
interface Proc {
  child: ChildProcess;
  logFile: string;
}

function spawnApp(name: string, entry: 'main' | 'recorder-main' | 'worker-main' | 'bare', env: Record<string, string>): Proc {
  const logFile = path.join(os.tmpdir(), `callx-bench-cps-${process.pid}-${name}.log`);
  const fd = openSync(logFile, 'w');
  // BENCH_PROFILE_DIR=dir writes a CPU profile of the exchange process there (for finding where time goes);
  // BENCH_PROFILE_PROCESSES (comma-separated: main, recorder-main, worker-main; default main) picks which processes.
  const profiled = (process.env.BENCH_PROFILE_PROCESSES ?? 'main').split(',').map((e) => e.trim());
  const profile = process.env.BENCH_PROFILE_DIR && profiled.includes(entry) ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  const dist = path.join(__dirname, '..', 'dist', 'app', `${entry}.js`);
  const script =
    entry === 'bare'
      ? ['--import', 'tsx', path.join(__dirname, 'load', 'bare-esl-app.ts')]
      : RUNTIME === 'dist' && existsSync(dist)
        ? [dist]
        : ['--import', 'tsx', path.join(__dirname, '..', 'app', `${entry}.ts`)];
  // BENCH_STALL_DIR=dir: each process records its event-loop stalls and GC pauses (bench/load/stall-probe.ts).
  const stallFile = process.env.BENCH_STALL_DIR ? path.join(process.env.BENCH_STALL_DIR, `${name}.stalls.jsonl`) : undefined;
  const probe = stallFile ? ['--import', 'tsx', '--import', path.join(__dirname, 'load', 'stall-probe.ts')] : [];
  const child = spawn(process.execPath, [...profile, ...probe, `--max-semi-space-size=${process.env.NODE_SEMI_SPACE_MB ?? '8'}`, ...script], {
    env: { ...process.env, ...commonEnv(), ...env, ...(stallFile ? { BENCH_STALL_FILE: stallFile } : {}) },
    stdio: ['ignore', fd, 'inherit'],
  });
  closeSync(fd);
  return { child, logFile };
}

const logBytes = (procs: Proc[]): number => procs.reduce((n, p) => n + (existsSync(p.logFile) ? statSync(p.logFile).size : 0), 0);

/** The switch peer this process plays, and the exchange settings that point at it. */
async function startPeer(onRecord: (r: CallRecord) => void) {
  if (SWITCH === 'asterisk') {
    // lean: no ChannelVarset/ConnectedLine chatter (full: as much as the recordings show a real Asterisk sending).
    // Configured as asterisk-conf/ tells an operator (ari.conf channelvars: without CALLX_CALL_ID in them, every
    // sweep asks one GET .../variable per call in progress, ~0.4 requests a call at 50 calls/s).
    const peer = new AsteriskPeer({ app: 'callx', record: false, username: 'callx', password: 'bench', noise: PEER_DETAIL === 'full', ...confPeerOptions() });
    peer.buyers.fallback = { kind: 'answer', afterMs: 20 };
    await peer.listen(0, '127.0.0.1');
    return {
      placer: asteriskPlacer(peer),
      switchEnvs: [{ SWITCHES: 'asterisk', ARI_URL: peer.url, ARI_USERNAME: 'callx', ARI_PASSWORD: 'bench', ARI_APP: 'callx', ARI_BUYER_TRUNK: 'buyers' }],
      wire: () => ({ commands: peer.wire.requests, events: peer.wire.events, eventBytes: peer.wire.eventBytes }),
      // /ready does not wait for the app's event WebSocket; on a loaded machine it can come seconds later.
      connected: async () => {
        const deadline = Date.now() + 30_000;
        while (!peer.hub.isActive('callx')) {
          if (Date.now() > deadline) throw new Error('the exchange never opened its ARI event WebSocket');
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      close: () => peer.close(),
    };
  }
  const peer = new FreeSwitchPeer({ detail: PEER_DETAIL, record: false });
  peer.buyers.fallback = { kind: 'answer', afterMs: 20 };
  const eslPort = await peer.listenInbound(0, '127.0.0.1');
  const apps: Array<{ host: string; port: number }> = [];
  for (let i = 0; i < NODES; i++) apps.push({ host: '127.0.0.1', port: await freePort() });
  return {
    placer: freeswitchPlacer(peer, apps, onRecord),
    switchEnvs: apps.map((a) => ({
      SWITCHES: 'freeswitch',
      FS_OUTBOUND_HOST: a.host,
      FS_OUTBOUND_PORT: String(a.port),
      FS_ESL_PORT: String(eslPort),
      FS_ESL_PASSWORD: 'ClueCon', // the peer's password
      FS_BUYER_GATEWAY: 'buyers',
    })),
    wire: () => ({ ...peer.core.wire }),
    connected: async () => undefined, // calls connect to the node's outbound socket server, up once /ready answers
    close: () => peer.close(),
  };
}

/** The exchange's processes for one mode: node(s), and in split mode a recorder and a worker. */
async function startExchange(mode: Mode, switchEnvs: Array<Record<string, string>>) {
  const nodes: Proc[] = [];
  for (const [i, switchEnv] of switchEnvs.entries()) {
    const httpPort = await freePort();
    const inProcess = mode === 'inprocess';
    const node = spawnApp(`node${i + 1}`, mode === 'bare' ? 'bare' : 'main', {
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      NODE_ID: `bench-node-${i + 1}`,
      MIGRATE_ON_START: i === 0 ? 'true' : 'false',
      RECORDER_ENABLED: String(inProcess),
      BILLING_WORKER_ENABLED: String(inProcess && WORKERS),
      FRAUD_WORKER_ENABLED: String(inProcess && WORKERS),
      ...switchEnv,
    });
    await untilReady(node.child, httpPort);
    nodes.push(node);
  }
  const side =
    mode === 'split'
      ? { recorder: spawnApp('recorder', 'recorder-main', { MIGRATE_ON_START: 'false' }), worker: spawnApp('worker', 'worker-main', { MIGRATE_ON_START: 'false' }) }
      : undefined;
  const all = [...nodes, ...(side ? [side.recorder, side.worker] : [])];
  const owners: Record<string, number | undefined> = Object.fromEntries(nodes.map((n, i) => [nodes.length > 1 ? `exchange${i + 1}` : 'exchange', n.child.pid]));
  if (side) Object.assign(owners, { recorder: side.recorder.child.pid, worker: side.worker.child.pid });
  // The Postgres processes that work for this exchange: the backends of its processes' connections (matched by
  // client port) and the cluster's background processes (WAL writer, checkpointer, ...), which its writes keep busy;
  // not the backends of whatever else uses the same server (other tests and benchmarks on a shared machine). Found
  // every 500 ms by a watcher process of its own, off the peer's event loop (the peer times the setups); the sets
  // only grow, and a backend that exits loses what it used in the window (pools keep theirs open while busy).
  // `postgres_cluster` counts every process of the cluster instead.
  const pg = startPostgresBackendWatcher(owners, DATABASE_URL);
  const groups: CpuGroups = {
    exchange: () => pidsCpuMs(nodes.map((n) => n.child.pid)),
    ...(side ? { recorder: () => processCpuMs(side.recorder.child.pid), worker: () => processCpuMs(side.worker.child.pid) } : {}),
    postgres: () => pidsCpuMs([...pg.pids]),
    // The part of Postgres's work done for each process (its connections' backends) and the background processes.
    ...Object.fromEntries([...pg.byOwner.keys()].map((o) => [`postgres_for_${o}`, () => pidsCpuMs([...(pg.byOwner.get(o) ?? [])])])),
    postgres_cluster: postgresClusterCpuMs,
    redis: () => processCpuMs(redisPid),
    // The peer and load generator: this process, plus the bench's Postgres-backend watcher (which ran in it before).
    peer: () => pidsCpuMs([process.pid, pg.watcherPid]),
  };
  const stop = async (): Promise<void> => {
    await pg.stop();
    for (const p of all) p.child.kill('SIGTERM');
    await Promise.all(all.map((p) => (p.child.exitCode !== null ? undefined : new Promise((r) => p.child.once('exit', r)))));
    // The node logs were only counted; BENCH_KEEP_LOGS=1 keeps them (their paths go to stderr).
    for (const p of all) {
      if (process.env.BENCH_KEEP_LOGS) process.stderr.write(`log kept: ${p.logFile}\n`);
      else rmSync(p.logFile, { force: true });
    }
  };
  const switches = () => contextSwitches(nodes.map((n) => n.child.pid));
  const syscalls = () => ioSyscalls(nodes.map((n) => n.child.pid));
  return { nodes, all, groups, switches, syscalls, stop };
}

let redisPid: number | undefined;

async function readRedisPid(): Promise<number | undefined> {
  const redis = new Redis(REDIS_URL);
  const info = await redis.info('server');
  redis.disconnect();
  const m = /process_id:(\d+)/.exec(info);
  return m ? Number(m[1]) : undefined;
}

/** --nodes 2: the held buyer's holds against its funds, sampled while calls run. */
function watchHolds(): { stop(): Promise<{ overruns: number; peakHeld: number; samples: number }> } {
  const redis = new Redis(REDIS_URL);
  let overruns = 0;
  let peakHeld = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const [a, held] = await redis.hmget(`${PREFIX}funds:${HELD_BUYER}`, 'a', 'held');
      if (a !== null && held !== null) {
        samples++;
        peakHeld = Math.max(peakHeld, Number(held));
        if (Number(held) > Number(a)) overruns++;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      redis.disconnect();
      return { overruns, peakHeld, samples };
    },
  };
}

async function runMode(mode: Mode, last: boolean): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
  const overlap = new BridgeOverlap();
  const callsPerNode = new Map<string, number>();
  const peer = await startPeer((record) => {
    if (record.socketAddress) callsPerNode.set(record.socketAddress, (callsPerNode.get(record.socketAddress) ?? 0) + 1);
    for (const b of record.bridges) overlap.add(b);
  });
  const exchange = await startExchange(mode, peer.switchEnvs);
  await peer.connected();
  const cond0 = { mode, workers: mode === 'split' ? 'own process' : WORKERS && mode !== 'bare' ? 'in process' : 'off' };
  try {
    if (mode !== 'bare') {
      await seedRows();
      // Seeded after start (migrations ran in the child): reload through the API-less path, a config-changed message.
      const redis = new Redis(REDIS_URL);
      await redis.publish(`${PREFIX}config-changed`, JSON.stringify({ what: 'bench seed' }));
      redis.disconnect();
      await new Promise((r) => setTimeout(r, 500));
    }

    const warm = new CallDriver(peer.placer, { dnis: DIDS, talkMs: 50, firstAni: 1_000_000 });
    await warm.runRate(Math.min(200, Math.max(...RATES)), 3); // not above the measured rates: a loaded peer would time out
    await warm.settle();
    if (warm.stats.bridged === 0) throw new Error(`warm-up bridged no call: ${JSON.stringify(Object.fromEntries(warm.stats.errors))}`);
    // Warm-up, not measured: the first seconds of a fresh process are JIT compilation and connection set-up.
    if (WARMUP_SECONDS > 0) {
      const w = new CallDriver(peer.placer, { dnis: DIDS, talkMs: TALK_MS, firstAni: 2_000_000 });
      await w.runRate(Math.max(...RATES), WARMUP_SECONDS);
      await w.settle();
    }

    // Fixed cost: each process's CPU per second with no calls (after the warm-up's billing has drained).
    if (IDLE_SECONDS > 0) {
      await new Promise((r) => setTimeout(r, 2000));
      const a = sampleCpu(exchange.groups);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      const used = cpuBetween(a, sampleCpu(exchange.groups));
      const sec = (Date.now() - t0) / 1000;
      for (const [group, ms] of Object.entries(used)) emit(`${group}_idle_cpu_ms_per_s`, ms === undefined ? undefined : ms / sec, 'ms/s', { ...cond0, seconds: Math.round(sec) });
    }

    overlap.clear();
    callsPerNode.clear();
    const holds = NODES > 1 ? watchHolds() : undefined;
    for (const cps of RATES) {
      const slow = process.env.BENCH_STALL_DIR ? new SlowSetups(peer.placer, startStallProbe()) : undefined;
      const driver = new CallDriver(slow ?? peer.placer, { dnis: DIDS, talkMs: TALK_MS, firstAni: 3_000_000 + cps * 1000 });
      const started = Date.now();
      const wireAtStart = peer.wire();
      // The steady window: from when the first calls end (calls now end as fast as they start) to the last call placed.
      // Per call means per call finished in the window: in a steady phase as many end as start, and on a machine
      // too loaded to keep up, calls placed but not yet handled have cost nothing yet.
      const mark = () => ({ cpu: sampleCpu(exchange.groups), cs: exchange.switches(), io: exchange.syscalls(), wire: peer.wire(), log: logBytes(exchange.all), placed: driver.stats.placed, finished: driver.stats.bridged + driver.stats.failed, at: Date.now() });
      const steady: { from?: ReturnType<typeof mark>; heap?: ReturnType<typeof startHeapWindow> } = {};
      await driver.runRate(cps, SECONDS, (sec) => {
        if (sec !== STEADY_FROM_SEC) return;
        steady.from = mark();
        steady.heap = startHeapWindow();
      });
      const end = mark();
      const heap: HeapWindow | undefined = steady.heap?.stop();
      const window = steady.from;
      const placingSec = (end.at - started) / 1000;
      await driver.settle();
      const wireSettled = peer.wire(); // every call of this rate has ended
      const s = driver.stats;
      const cond = {
        ...cond0,
        target_cps: cps,
        seconds: SECONDS,
        window_s: window ? Math.round((end.at - window.at) / 100) / 10 : 0,
        window_calls: window ? end.finished - window.finished : 0,
        window_placed: window ? end.placed - window.placed : 0,
        backlog_at_end: end.placed - end.finished,
        calls: s.placed,
        bridged: s.bridged,
        failed: s.failed,
        stuck: s.errors.get('stuck') ?? 0,
        talk_ms: TALK_MS,
      };
      if (window && cond.window_calls > 0) {
        const calls = cond.window_calls;
        const used = cpuBetween(window.cpu, end.cpu);
        for (const [group, ms] of Object.entries(used)) emit(`${group}_cpu_ms_per_call`, ms === undefined ? undefined : ms / calls, 'ms', cond);
        const platform = ['exchange', 'recorder', 'worker', 'postgres', 'redis'].reduce((t, g) => t + (used[g] ?? 0), 0);
        // postgres_cluster_cpu_ms_per_call (every process of the cluster, others' work included) is printed for comparison.
        emit('platform_cpu_ms_per_call', platform / calls, 'ms', { ...cond, of: 'exchange+recorder+worker+postgres+redis' });
        // Counts, unlike CPU, are taken over the whole rate, from its first call to the end of its last: a window's
        // edges would count commands of calls placed in it whose end falls after it (or the reverse for events).
        const unitNames = SWITCH === 'asterisk' ? ['requests', 'events', 'event_bytes'] : ['commands', 'events', 'event_bytes'];
        const counted = { ...cond, counted_over: 'every call of the rate, until the last ended', counted_calls: s.placed };
        emit(`${FIGURE}_${unitNames[0]}_per_call`, (wireSettled.commands - wireAtStart.commands) / s.placed, SWITCH === 'asterisk' ? 'requests' : 'commands', counted);
        emit(`${FIGURE}_events_per_call`, (wireSettled.events - wireAtStart.events) / s.placed, 'events', counted);
        emit(`${FIGURE}_event_bytes_per_call`, (wireSettled.eventBytes - wireAtStart.eventBytes) / s.placed, 'bytes', counted);
        emit('exchange_log_bytes_per_call', (end.log - window.log) / calls, 'bytes', cond);
        if (heap) {
          // The peer's (this process's) JS heap allocation and GC pauses: what its garbage collector has to do.
          emit('peer_allocated_kb_per_call', heap.allocatedBytes / 1024 / calls, 'KB', cond);
          emit('peer_gc_pause_ms_per_call', heap.pauseMs / calls, 'ms', { ...cond, collections: heap.collections, scavenges: heap.scavenges, max_pause_ms: Math.round(heap.maxPauseMs * 10) / 10 });
        }
        emit('exchange_wakeups_per_call', (end.cs.voluntary - window.cs.voluntary) / calls, 'voluntary context switches', cond);
        emit('exchange_preemptions_per_call', (end.cs.involuntary - window.cs.involuntary) / calls, 'involuntary context switches', cond);
        emit('exchange_read_syscalls_per_call', (end.io.reads - window.io.reads) / calls, 'read system calls', cond);
        emit('exchange_write_syscalls_per_call', (end.io.writes - window.io.writes) / calls, 'write system calls', cond);
      }
      emit(`${FIGURE}_call_setup_cps`, s.failed === 0 ? s.placed / placingSec : (s.bridged / s.placed) * (s.placed / placingSec), 'calls/s', cond);
      emit(`${FIGURE}_call_setup_p50_ms`, percentile(s.setupMs, 0.5), 'ms', cond);
      emit(`${FIGURE}_call_setup_p99_ms`, percentile(s.setupMs, 0.99), 'ms', cond);
      if (s.failed || s.errors.size) process.stderr.write(`failures at ${cps} cps (${mode}): ${JSON.stringify(Object.fromEntries(s.errors))}\n`);
      slow?.save(path.join(process.env.BENCH_STALL_DIR!, `setups-${mode}-${cps}.json`), started);
    }

    if (holds) {
      const h = await holds.stop();
      // Billing charges the held calls (in-process or the worker); give it time, then read the buyer's balance.
      await new Promise((r) => setTimeout(r, 3000));
      const pool = new Pool({ connectionString: DATABASE_URL, max: 1, options: `-c search_path=${SCHEMA}` });
      const { rows } = await pool.query<{ balance_cents: string; credit_limit_cents: string }>('SELECT balance_cents, credit_limit_cents FROM accounts WHERE id = $1', [HELD_BUYER]);
      await pool.end();
      const available = Number(rows[0]?.balance_cents ?? 0) + Number(rows[0]?.credit_limit_cents ?? 0);
      const heldBuyerCalls = overlap.callsTo(destinationOf(HELD_G));
      const capped = overlap.peak(destinationOf(CAPPED_G));
      emit('calls_per_node', Math.min(...[...callsPerNode.values()]), 'calls (the fewer of the nodes)', { ...cond0, per_node: Object.fromEntries(callsPerNode) });
      emit('cap_overruns', Math.max(0, capped - CAP), 'calls', { ...cond0, target: CAPPED_TARGET, cap_concurrency: CAP, peak_concurrent_seen: capped, calls_to_target: overlap.callsTo(destinationOf(CAPPED_G)) });
      emit('hold_overruns', h.overruns + (available < 0 ? 1 : 0), 'samples', {
        ...cond0,
        buyer: HELD_BUYER,
        funds_cents: HELD_CALLS * bidOf(HELD_G),
        peak_held_cents: h.peakHeld,
        samples: h.samples,
        available_after_cents: available,
        calls_to_buyer: heldBuyerCalls,
      });
    }

    if (last && CONCURRENT > 0) await concurrency(peer.placer);
  } finally {
    await exchange.stop();
    await peer.close();
  }
}

/** Concurrency: ramp up calls that stay bridged, count them, then hang them all up. */
async function concurrency(placer: CallPlacer): Promise<void> {
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
}

async function main(): Promise<void> {
  redisPid = await readRedisPid();
  for (const [i, mode] of MODES.entries()) await runMode(mode, i === MODES.length - 1);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
