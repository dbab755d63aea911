/**
 * Crash drill: calls survive the exchange. Drives calls through a switch peer at a steady rate into an exchange node
 * running as a child process, kills the node with SIGKILL mid-run, restarts it, waits for the drain, and checks
 * that no call was cut, left open, billed twice, or left holding a concurrency slot.
 *
 *   npm run drill -- --switch freeswitch|asterisk [--rate 20] [--seconds 30] [--talk-ms 10000] [--kill-at-seconds 15]
 *                    [--down-ms 500] [--heartbeat-ttl-ms 10000] [--sweep-ms 5000]
 *                    [--drain-timeout-seconds 120] [--schema drill] [--prefix drill:]
 *
 * Prints JSON lines: drill_calls_placed, drill_calls_bridged, drill_calls_open_after_drain (must be 0),
 * drill_calls_stuck (0: callers neither bridged nor released), drill_calls_billed_twice (0), drill_cap_slots_leaked (0),
 * drill_calls_cut_by_restart (0), drill_calls_node_lost (ended unwatched between the kill and the adoption: closed
 * without their real end, at a lower bound of it), drill_calls_lost_billed (of those, bridged ones charged on that
 * lower bound), drill_calls_lost_unbilled (0: bridged node_lost calls whose lower-bound billable time reached the
 * target's convert_on_seconds but were not charged), drill_calls_lost_overbilled (0: node_lost calls with more
 * billable seconds than their real talk time), drill_drain_seconds.
 * Exits 3 when a must-be-zero figure is not. Uses DATABASE_URL (schema `drill` unless --schema) and REDIS_URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { FreeSwitchPeer } from '../test/peers/freeswitch';
import { AsteriskPeer } from '../test/peers/asterisk';
import { callxDialplanVariables } from '../test/peers/freeswitch/dialplan';
import { freshBenchState, untilReady } from './load/bench-state';
import { benchFlags } from './load/bench-args';

const FLAGS = benchFlags(process.argv.slice(2), {
  values: ['switch', 'rate', 'seconds', 'talk-ms', 'kill-at-seconds', 'down-ms', 'heartbeat-ttl-ms', 'sweep-ms', 'drain-timeout-seconds', 'schema', 'prefix'],
  usage: `npm run drill -- [options]

  --switch <name>                 freeswitch (default) or asterisk
  --rate <n>                      calls placed per second (default 20)
  --seconds <n>                   how long calls are placed (default 30)
  --talk-ms <ms>                  how long a bridged caller talks (default 10000)
  --kill-at-seconds <n>           when the node is killed (default half of --seconds)
  --down-ms <ms>                  how long it stays down before the restart (default 500)
  --heartbeat-ttl-ms <ms>         the node's NODE_HEARTBEAT_TTL_MS (default 10000)
  --sweep-ms <ms>                 the node's SWEEP_INTERVAL_MS (default 5000)
  --drain-timeout-seconds <n>     how long to wait for every call to end (default 120)
  --schema <name>                 the Postgres schema (default drill)
  --prefix <prefix>               the Redis key prefix (default drill:)
  --help                          this text

Exits 3 when a figure that must be 0 is not, 2 on a bad option.`,
});
const SWITCH = FLAGS.oneOf('switch', ['freeswitch', 'asterisk'], 'freeswitch');
const RATE = FLAGS.number('rate', 20, { min: 0.1 });
const SECONDS = FLAGS.number('seconds', 30, { min: 1 });
const TALK_MS = FLAGS.number('talk-ms', 10_000, { min: 0 });
const KILL_AT_SECONDS = FLAGS.number('kill-at-seconds', SECONDS / 2, { min: 0 });
const DOWN_MS = FLAGS.number('down-ms', 500, { min: 0 });
const HEARTBEAT_TTL_MS = String(FLAGS.number('heartbeat-ttl-ms', 10_000, { min: 1, integer: true }));
const SWEEP_MS = String(FLAGS.number('sweep-ms', 5000, { min: 1, integer: true }));
const DRAIN_TIMEOUT_MS = FLAGS.number('drain-timeout-seconds', 120, { min: 1 }) * 1000;
const SCHEMA = FLAGS.string('schema', 'drill');
const PREFIX = FLAGS.string('prefix', 'drill:');
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DID = '+18885550900';
/** a caller still on the line this long after its talk time is stuck (the switch neither bridged nor released it) */
const STUCK_AFTER_MS = 30_000;
const BUYERS = 5;
for (const [name, v] of Object.entries({ RATE, SECONDS, TALK_MS, KILL_AT_SECONDS, DOWN_MS, DRAIN_TIMEOUT_MS })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number >= 0`);
}
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(SCHEMA)) throw new Error('--schema must be a plain SQL identifier');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`drill: ${msg}\n`);
const emit = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ name, value, unit, switch: SWITCH, rate: RATE, seconds: SECONDS, talk_ms: TALK_MS, ...extra })}\n`);
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh schema and Redis prefix. */
async function reset(): Promise<void> {
  await freshBenchState({ databaseUrl: DATABASE_URL, redisUrl: REDIS_URL, schema: SCHEMA, prefix: PREFIX });
}

/** A seller, a campaign and a few buyers with concurrency caps, so a leaked slot would show. */
async function seedRows(pool: Pool): Promise<void> {
  await pool.query("INSERT INTO accounts (id, kind, name) VALUES ('seller', 'seller', 'Drill seller')");
  await pool.query("INSERT INTO campaigns (id, seller_account_id, name, routing) VALUES ('drill', 'seller', 'Drill', 'first_price')");
  await pool.query("INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, 'drill', 'seller')", [DID]);
  await pool.query(`INSERT INTO accounts (id, kind, name, balance_cents) SELECT 'buyer-' || g, 'buyer', 'Buyer ' || g, 100000000 FROM generate_series(1, $1) g`, [BUYERS]);
  await pool.query(
    `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, cap_concurrency, convert_on_seconds)
     SELECT 't' || g, 'buyer-' || g, 'drill', 'target', 500 + g * 10, '+1555123' || lpad(g::text, 4, '0'), 100000, 1 FROM generate_series(1, $1) g`,
    [BUYERS],
  );
}

async function startExchange(switchEnv: Record<string, string>, httpPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'app', 'main.ts')], {
    env: {
      ...process.env,
      DATABASE_URL,
      DATABASE_SCHEMA: SCHEMA,
      REDIS_URL,
      REDIS_PREFIX: PREFIX,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      LOG_LEVEL: process.env.DRILL_LOG_LEVEL ?? 'warn',
      NODE_ID: 'drill-node',
      NODE_HEARTBEAT_TTL_MS: HEARTBEAT_TTL_MS,
      SWEEP_INTERVAL_MS: SWEEP_MS,
      FRAUD_WORKER_ENABLED: 'false', // the drill's synthetic traffic would look like fraud and pause its number
      ...switchEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await untilReady(child, httpPort);
  return child;
}

/** What the peer saw of one call. */
interface DrillOutcome {
  bridged: boolean;
  /** bridged, then ended by anything but the caller's scheduled hangup */
  cut: boolean;
}

interface DrillPeer {
  switchEnv: Record<string, string>;
  place(ani: string): { finished: Promise<DrillOutcome>; hangup(): void };
  close(): Promise<void>;
}

async function startPeer(): Promise<DrillPeer> {
  if (SWITCH === 'asterisk') {
    const peer = new AsteriskPeer({ app: 'callx', record: false, username: 'callx', password: 'drill' });
    peer.buyers.fallback = { kind: 'answer', afterMs: 20 };
    await peer.listen(0, '127.0.0.1');
    return {
      switchEnv: { SWITCHES: 'asterisk', ARI_URL: peer.url, ARI_USERNAME: 'callx', ARI_PASSWORD: 'drill', ARI_APP: 'callx', ARI_BUYER_TRUNK: 'buyers' },
      place: (ani) => {
        const call = peer.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: TALK_MS });
        const finished = call.finished.then((r) => {
          const bridged = r.bridgedWith.length > 0;
          // Cut: the caller's end was not its own scheduled hangup, or its buyer leg was dropped and the call bridged anew.
          return { bridged, cut: bridged && (r.endedBy !== 'caller' || r.bridgedWith.length > 1) };
        });
        return { finished, hangup: () => call.hangup() };
      },
      close: () => peer.close(),
    };
  }
  // The variables the shipped dialplan sets before handing a call to the exchange (socket_resume, park_timeout...).
  const variables = callxDialplanVariables();
  const peer = new FreeSwitchPeer({ detail: 'lean', record: false });
  peer.buyers.fallback = { kind: 'answer', afterMs: 20 };
  const eslPort = await peer.listenInbound(0, '127.0.0.1');
  const outboundPort = await freePort();
  return {
    switchEnv: {
      SWITCHES: 'freeswitch',
      FS_OUTBOUND_HOST: '127.0.0.1',
      FS_OUTBOUND_PORT: String(outboundPort),
      FS_ESL_PORT: String(eslPort),
      FS_ESL_PASSWORD: 'ClueCon', // the peer's password
      FS_BUYER_GATEWAY: 'buyers',
    },
    place: (ani) => {
      const session = peer.placeCall({ app: { host: '127.0.0.1', port: outboundPort }, ani, dnis: DID, hangupAfterBridgeMs: TALK_MS, variables });
      const finished = session.finished.then((r) => {
        const bridges = r.bridges.filter((b) => b.result === 'SUCCESS');
        // Cut: the bridge ended otherwise than by the caller's scheduled hangup, or the caller was bridged anew.
        return { bridged: bridges.length > 0, cut: bridges.length > 0 && (bridges.length > 1 || bridges[0]!.endedBy !== 'caller') };
      });
      return { finished, hangup: () => session.callerHangup() };
    },
    close: () => peer.inbound.close(),
  };
}

/**
 * What is not finished: calls open in the records or still in the live-call registry (counted once), ended bridged
 * calls not yet billed, and journal entries not yet recorded.
 */
async function openWork(pool: Pool, redis: Redis): Promise<{ open: number; unbilled: number; registry: number; journal: number }> {
  const openIds = new Set<string>((await pool.query('SELECT id FROM calls WHERE ended_at IS NULL')).rows.map((r) => r.id as string));
  const unbilled = (await pool.query(
    `SELECT count(*)::int AS n FROM calls c WHERE c.ended_at IS NOT NULL AND (c.outcome = 'bridged' OR (c.outcome = 'node_lost' AND c.bridged_at IS NOT NULL))
       AND NOT EXISTS (SELECT 1 FROM call_billing b WHERE b.call_id = c.id)`,
  )).rows[0].n as number;
  let registry = 0;
  for (const node of await redis.smembers('live:nodes')) {
    for (const id of await redis.hkeys(`live:calls:${node}`)) {
      registry++;
      openIds.add(id);
    }
  }
  const journal = await redis.xlen('journal:calls');
  return { open: openIds.size, unbilled, registry, journal };
}

async function main(): Promise<void> {
  await reset();
  const peer = await startPeer();
  const httpPort = await freePort();
  let exchange = await startExchange(peer.switchEnv, httpPort);
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2, options: `-c search_path=${SCHEMA}` });
  const redis = new Redis(REDIS_URL, { keyPrefix: PREFIX });
  await seedRows(pool);
  await redis.publish(`${PREFIX}config-changed`, JSON.stringify({ what: 'drill seed' }));
  await sleep(500);

  const outcomes: Array<Promise<DrillOutcome>> = [];
  const hangups: Array<() => void> = [];
  const done = new Set<number>();
  const failures = new Map<string, number>();
  try {
    const total = Math.round(RATE * SECONDS);
    const started = Date.now();
    let killed = false;
    let restarting: Promise<void> | undefined;
    while (outcomes.length < total) {
      const elapsed = Date.now() - started;
      const due = Math.min(total, Math.floor((elapsed / 1000) * RATE));
      while (outcomes.length < due) {
        const i = outcomes.length;
        const call = peer.place(`+1813${String(2_000_000 + i)}`);
        hangups.push(call.hangup);
        outcomes.push(
          call.finished
            .catch((err: Error) => {
              failures.set(err.message, (failures.get(err.message) ?? 0) + 1);
              return { bridged: false, cut: false };
            })
            .finally(() => done.add(i)),
        );
      }
      if (!killed && elapsed >= KILL_AT_SECONDS * 1000) {
        killed = true;
        log(`SIGKILL to the exchange after ${outcomes.length} calls`);
        exchange.kill('SIGKILL');
        restarting = (async () => {
          await new Promise((r) => (exchange.exitCode !== null || exchange.signalCode !== null ? r(undefined) : exchange.once('exit', r)));
          await sleep(DOWN_MS);
          exchange = await startExchange(peer.switchEnv, httpPort);
          log('exchange restarted');
        })();
      }
      await sleep(10);
    }
    await restarting;
    // A caller the switch never answered or released (parked, ringing) is one the exchange left without an answer:
    // past the talk time and a margin it hangs up, and the call counts as stuck.
    const settleBy = Date.now() + TALK_MS + STUCK_AFTER_MS;
    while (done.size < outcomes.length && Date.now() < settleBy) await sleep(100);
    const stuck = outcomes.length - done.size;
    hangups.forEach((hangup, i) => {
      if (!done.has(i)) hangup();
    });
    const results = await Promise.all(outcomes);
    const drainStarted = Date.now();
    let work = await openWork(pool, redis);
    while (work.open + work.unbilled + work.registry + work.journal > 0 && Date.now() - drainStarted < DRAIN_TIMEOUT_MS) {
      await sleep(500);
      work = await openWork(pool, redis);
    }
    if (work.open + work.unbilled + work.registry + work.journal > 0) log(`drain timed out: ${JSON.stringify(work)}`);

    // Billed twice: a ledger posting repeated for a call, or one switch call recorded (and billed) as two calls.
    const dupPostings = (await pool.query("SELECT count(*)::int AS n FROM (SELECT call_id FROM ledger_transactions WHERE kind = 'call' GROUP BY call_id HAVING count(*) > 1) d")).rows[0].n as number;
    const dupCalls = (await pool.query(
      `SELECT count(*)::int AS n FROM (SELECT c.switch_call_id FROM calls c JOIN call_billing b ON b.call_id = c.id
        WHERE b.converted GROUP BY c.switch_call_id HAVING count(*) > 1) d`,
    )).rows[0].n as number;
    let slots = 0;
    const raw = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${PREFIX}cap:*:conc`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) slots += await raw.zcard(k);
    } while (cursor !== '0');
    raw.disconnect();

    // Bridged calls closed node_lost (ended while no node watched them) are billed on the lower bound of their end:
    // charged when that reached the target's threshold, and never for more than they talked.
    const lost = (await pool.query(
      `SELECT count(*) FILTER (WHERE b.converted)::int AS billed,
              count(*) FILTER (WHERE c.billable_sec >= coalesce(t.convert_on_seconds, 0) AND NOT EXISTS (
                SELECT 1 FROM ledger_transactions l WHERE l.call_id = c.id AND l.kind = 'call'))::int AS unbilled,
              count(*) FILTER (WHERE c.billable_sec > $1)::int AS overbilled
       FROM calls c LEFT JOIN call_billing b ON b.call_id = c.id LEFT JOIN buyer_targets t ON t.id = c.winner_target_id
       WHERE c.outcome = 'node_lost' AND c.bridged_at IS NOT NULL`,
      [TALK_MS / 1000],
    )).rows[0] as { billed: number; unbilled: number; overbilled: number };

    const figures = {
      drill_calls_open_after_drain: work.open,
      drill_calls_stuck: stuck,
      drill_calls_billed_twice: dupPostings + dupCalls,
      drill_cap_slots_leaked: slots,
      drill_calls_cut_by_restart: results.filter((r) => r.cut).length,
      drill_calls_lost_unbilled: lost.unbilled,
      drill_calls_lost_overbilled: lost.overbilled,
    };
    emit('drill_calls_placed', results.length, 'calls', { kill_at_seconds: KILL_AT_SECONDS, failures: Object.fromEntries(failures) });
    emit('drill_calls_bridged', results.filter((r) => r.bridged).length, 'calls');
    for (const [name, value] of Object.entries(figures)) emit(name, value, name === 'drill_cap_slots_leaked' ? 'slots' : 'calls');
    // Not a failure, a cost: calls that ended while no node watched them (between the kill and the adoption) are
    // closed as node_lost at a lower bound of their end (their dead node's last beat), and billed on it.
    const nodeLost = (await pool.query(
      "SELECT count(*)::int AS n, coalesce(sum(billable_sec), 0)::int AS billable FROM calls WHERE outcome = 'node_lost'",
    )).rows[0] as { n: number; billable: number };
    emit('drill_calls_node_lost', nodeLost.n, 'calls', { billable_sec: nodeLost.billable });
    emit('drill_calls_lost_billed', lost.billed, 'calls');
    emit('drill_drain_seconds', Math.round((Date.now() - drainStarted) / 100) / 10, 's', { unbilled: work.unbilled, journal: work.journal });
    if (Object.values(figures).some((v) => v !== 0)) process.exitCode = 3;
  } finally {
    exchange.kill('SIGTERM');
    await new Promise((r) => (exchange.exitCode !== null || exchange.signalCode !== null ? r(undefined) : exchange.once('exit', r)));
    await pool.end();
    redis.disconnect();
    await peer.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`drill failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
