/**
 * The REST API under a mixed load from another process on loopback: 45% calls list (50 per page), 45% call detail
 * (with its trace, attempts, billing and postings), 10% bid updates, at a fixed rate, against a node with 20,000
 * recorded calls. Authentication, rate limiting (raised for the run) and validation are on, as in production.
 *
 *   npm run bench:api [-- --rps 2000 --seconds 10 --warmup-seconds 3]
 *
 * Then standing-bid updates over socket.io from another process (batches of 1,000 of the node's 1,000 targets, 2
 * unacknowledged at a time, `--bid-seconds`, 0 to skip), as `npm run bench:bids` does.
 *
 * Prints JSON lines: api_p50_ms, api_p99_ms, api_rps, api_server_cpu_us_per_request (the server process's CPU,
 * user + system, over the steady window only, divided by the requests answered in it), api_postgres_cpu_us_per_request,
 * api_postgres_queries_per_request and api_redis_commands_per_request (the node's main client),
 * api_heap_allocated_bytes_per_request (the node's V8 heap over the steady window), bid_updates_per_s. Uses the schema `bench_api` of
 * DATABASE_URL and the Redis prefix `bench:api:`.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import type { Pool } from 'pg';
import path from 'node:path';
import { loadConfig } from '../app/config';
import { silentLogger } from '../app/observability/logger';
import { startExchangeNode } from '../app/exchange-node';
import { createApiKey } from '../app/store/api-keys';
import { measureBidUpdates } from './load/bid-phase';
import { freshBenchState } from './load/bench-state';
import { countCommands, countQueries } from './load/client-counters';
import { benchFlags } from './load/bench-args';
import { processCpuMs } from './load/proc-cpu';
import { SteadyHeapProfile, SteadyProfile } from './load/steady-profile';
import { startHeapWindow } from './load/heap-allocation';
import { startBareApiServer, type CannedAnswers } from './load/bare-api-server';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['rps', 'seconds', 'warmup-seconds', 'bid-seconds', 'mix'],
  switches: ['floor'],
  usage: `npm run bench:api [-- options]

  --rps <n>             requests per second, sent open loop (default 2000)
  --seconds <n>         the steady window, after the warm-up (default 10)
  --warmup-seconds <n>  requests sent but not counted first: JIT, connections, caches (default 3)
  --mix <kind>          mixed (list 45%, detail 45%, bid update 10%), list, detail or bid (default mixed)
  --bid-seconds <n>     then batched bid updates over socket.io for this long; 0 skips them (default 10)
  --floor               the same load against a bare node:http server replaying real answers (api_floor_*)
  --help                this text

  BENCH_PROFILE_DIR=dir writes a CPU profile of the server over the steady window there.
  BENCH_HEAP_PROFILE_DIR=dir writes a sampling heap profile of the server (where it allocates) over it there.`,
});
const RPS = FLAGS.number('rps', 2000, { min: 1, integer: true });
const SECONDS = FLAGS.number('seconds', 10, { min: 1, integer: true });
/** 0 skips the bid phase */
const BID_SECONDS = FLAGS.number('bid-seconds', 10, { min: 0, integer: true });
const BID_BATCH = 1000;
const BID_IN_FLIGHT = 2;
const WARMUP = FLAGS.number('warmup-seconds', 3, { min: 1, integer: true });
const MIX = FLAGS.oneOf('mix', ['mixed', 'list', 'detail', 'bid'], 'mixed');
/** BENCH_PROFILE_DIR=dir writes a CPU profile of the server (this process) over the steady window there. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** BENCH_HEAP_PROFILE_DIR=dir writes a sampling heap profile (where the server allocates) over the steady window there. */
const HEAP_PROFILE_DIR = process.env.BENCH_HEAP_PROFILE_DIR;
/** --floor: the same load against a bare node:http server answering with canned real answers (bare-api-server.ts). */
const FLOOR = FLAGS.has('floor');
const CALLS = 20_000;
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'bench_api';
const PREFIX = 'bench:api:';

async function main(): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });

  const config = loadConfig({
    DATABASE_URL, DATABASE_SCHEMA: SCHEMA, REDIS_URL, REDIS_PREFIX: PREFIX, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'warn',
    API_RATE_LIMIT_PER_SECOND: String(RPS * 2), BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false',
  });
  const node = await startExchangeNode(config, silentLogger());
  try {
    const q = (sql: string, params: unknown[] = []) => node.pool.query(sql, params);
    await q("INSERT INTO accounts (id, kind, name, balance_cents) VALUES ('seller', 'seller', 'S', 0), ('buyer', 'buyer', 'B', 100000000)");
    await q("INSERT INTO campaigns (id, seller_account_id, name) VALUES ('c', 'seller', 'C')");
    await q("INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination) SELECT 't' || g, 'buyer', 'c', 't', 1000, 'sip:b@x' FROM generate_series(1, 1000) g");
    await q(
      `INSERT INTO calls (id, direction, ani, dnis, started_at, campaign_id, seller_account_id, outcome, winner_target_id, winner_buyer_id, price_cents,
         decided_at, bridged_at, ended_at, duration_sec, billable_sec, hangup_cause, hung_up_by, end_reason)
       SELECT 'call-' || g, 'inbound', '+1303' || lpad(g::text, 7, '0'), '+18885550100', now() - (g || ' seconds')::interval, 'c', 'seller', 'bridged',
         't' || (1 + g % 1000), 'buyer', 1000, now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, now(), 60, 55, 'NORMAL_CLEARING', 'caller', 'caller_hangup'
       FROM generate_series(1, $1) g`,
      [CALLS],
    );
    await q(`INSERT INTO call_decisions (call_id, decided_at, trace) SELECT id, decided_at, jsonb_build_object('callId', id, 'winnerTargetId', winner_target_id, 'ranked', jsonb_build_object('targetId', jsonb_build_array('t1', 't2', 't3'))) FROM calls`);
    await q("INSERT INTO bridge_attempts (call_id, attempt_no, target_id, buyer_id, destination, started_at, ended_at, status) SELECT id, 1, winner_target_id, 'buyer', 'sip:b@x', started_at, ended_at, 'bridged' FROM calls");
    await q('ANALYZE');
    await node.snapshots.refreshNow();
    const adminKey = (await createApiKey(node.pool, { role: 'admin' })).key;
    const buyerKey = (await createApiKey(node.pool, { role: 'buyer', accountId: 'buyer' })).key;
    const callIds = Array.from({ length: 500 }, (_, i) => `call-${1 + i * 37}`).join(',');
    const targetIds = Array.from({ length: 200 }, (_, i) => `t${1 + i * 5}`).join(',');
    const nodeUrl = `http://127.0.0.1:${node.httpPort}`;
    const bare = FLOOR ? await startBareApiServer(await captureAnswers(nodeUrl, adminKey, buyerKey)) : undefined;
    const client = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'load', 'api-client.ts'), bare?.url ?? nodeUrl, adminKey, buyerKey, callIds, targetIds, String(RPS), String(SECONDS), String(WARMUP), MIX], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const profiler = PROFILE_DIR ? new SteadyProfile(PROFILE_DIR, `api-${MIX}`) : undefined;
    const heapProfiler = HEAP_PROFILE_DIR ? new SteadyHeapProfile(HEAP_PROFILE_DIR, `api-${MIX}`) : undefined;
    // The server's CPU (this process: the node under test) from the end of the client's warm-up to its last answer.
    let cpu0: NodeJS.CpuUsage | undefined;
    // And the node's Postgres backends' (what the node's queries cost on the other side; a floor run asks none).
    let pg0 = new Map<number, number>();
    let pg1 = new Map<number, number>();
    let cpu: NodeJS.CpuUsage | undefined;
    // Statements and Redis commands the node sends (counted on its own clients: both servers are shared).
    const queries = countQueries(node.pool);
    const commands = countCommands(node.redis);
    // Bytes the node allocates on its heap over the same window (the garbage collector's work; load-independent).
    let heap: ReturnType<typeof startHeapWindow> | undefined;
    let heapBytes = 0;
    let counts0 = { queries: 0, commands: 0 };
    let counts1 = { queries: 0, commands: 0 };
    let out = '';
    let line = '';
    client.stdout.on('data', (d: Buffer) => {
      line += d.toString();
      for (let nl = line.indexOf('\n'); nl >= 0; nl = line.indexOf('\n')) {
        const l = line.slice(0, nl);
        line = line.slice(nl + 1);
        if (l === '{"phase":"steady"}') {
          cpu0 = process.cpuUsage();
          pg0 = backendsCpuMs(node.pool);
          counts0 = { queries: queries.count, commands: commands.count };
          heap = startHeapWindow();
          if (profiler) void profiler.start();
          if (heapProfiler) void heapProfiler.start();
        }
        else if (l.trim()) {
          cpu = process.cpuUsage(cpu0);
          pg1 = backendsCpuMs(node.pool);
          counts1 = { queries: queries.count, commands: commands.count };
          heapBytes = heap?.stop().allocatedBytes ?? 0;
          out = l;
        }
      }
    });
    const code = await new Promise<number | null>((resolve) => client.on('exit', resolve));
    if (profiler) process.stderr.write(`CPU profile of the server: ${await profiler.stop()}\n`);
    if (heapProfiler) process.stderr.write(`heap profile of the server: ${await heapProfiler.stop()}\n`);
    await bare?.close();
    if (code !== 0) throw new Error(`the API client exited with ${code}`);
    if (!cpu0 || !cpu) throw new Error('the API client never reported its steady phase');
    const r = JSON.parse(out) as { requests: number; seconds: number; p50: number; p99: number; statuses: Record<string, number> };
    const cpuUs = cpu.user + cpu.system;
    const cond = { server: FLOOR ? 'bare node:http, canned answers (floor)' : 'exchange node', load1: Math.round(os.loadavg()[0]! * 100) / 100, server_cpu_kernel_share: Math.round((cpu.system / cpuUs) * 100) / 100, target_rps: RPS, seconds: SECONDS, warmup_seconds: WARMUP, requests: r.requests, statuses: r.statuses, mix: MIX === 'mixed' ? 'list 45%, detail 45%, bid update 10%' : `${MIX} only`, calls_in_db: CALLS };
    const figures = [
      ['p50_ms', r.p50, 'ms'], ['p99_ms', r.p99, 'ms'], ['rps', Math.round(r.requests / r.seconds), 'requests/s'],
      ['server_cpu_us_per_request', Math.round(cpuUs / r.requests), 'us/request'],
      ['postgres_cpu_us_per_request', Math.round((cpuMsBetween(pg0, pg1) * 1000) / r.requests), 'us/request'],
      ['postgres_queries_per_request', Math.round(((counts1.queries - counts0.queries) / r.requests) * 1000) / 1000, 'queries/request'],
      ['heap_allocated_bytes_per_request', Math.round(heapBytes / r.requests), 'bytes/request'],
      ['redis_commands_per_request', Math.round(((counts1.commands - counts0.commands) / r.requests) * 1000) / 1000, 'commands/request'],
    ] as const;
    for (const [name, value, unit] of figures) {
      process.stdout.write(`${JSON.stringify({ name: `${FLOOR ? 'api_floor_' : 'api_'}${name}`, value, unit, ...cond })}\n`);
    }
    if (BID_SECONDS > 0 && !FLOOR) {
      process.stdout.write(`${JSON.stringify(await measureBidUpdates(node, buyerKey, { targets: 1000, batch: BID_BATCH, seconds: BID_SECONDS, inFlight: BID_IN_FLIGHT }))}\n`);
    }
  } finally {
    await node.stop();
  }
}



/** CPU (ms, user + system) used so far by each Postgres backend the pool holds, by pid (a bench-only peek into pg's Pool). */
function backendsCpuMs(pool: Pool): Map<number, number> {
  const clients = (pool as unknown as { _clients?: { processID?: number }[] })._clients ?? [];
  const out = new Map<number, number>();
  for (const c of clients) {
    const ms = c.processID ? processCpuMs(c.processID) : undefined;
    if (ms !== undefined) out.set(c.processID!, ms);
  }
  return out;
}

/** The backends' CPU between two readings; a backend opened in between counts from zero. */
function cpuMsBetween(a: Map<number, number>, b: Map<number, number>): number {
  let ms = 0;
  for (const [pid, end] of b) ms += end - (a.get(pid) ?? 0);
  return ms;
}

/** One real answer of each kind the load asks for, as the node gives them (the floor server replays them). */
async function captureAnswers(base: string, adminKey: string, buyerKey: string): Promise<CannedAnswers> {
  const get = async (p: string, init: RequestInit): Promise<string> => {
    const res = await fetch(`${base}${p}`, init);
    if (res.status !== 200) throw new Error(`${p} answered ${res.status}`);
    return res.text();
  };
  const admin = { authorization: `Bearer ${adminKey}` };
  return {
    list: await get('/v1/calls?limit=50', { headers: admin }),
    detail: await get('/v1/calls/call-38', { headers: admin }),
    bid: await get('/v1/targets/t1/bid', { method: 'PATCH', headers: { authorization: `Bearer ${buyerKey}`, 'content-type': 'application/json' }, body: '{"bidCents":1000}' }),
  };
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
