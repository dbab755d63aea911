/**
 * A newcomer's first run: `npm run demo`. Applies the migrations, seeds a demo seller, a campaign with three
 * tracking numbers and five buyers (different bids, one closed now, one with a concurrency cap of one, one nearly
 * out of funds, one whose line is busy), starts the exchange (recorder, billing and fraud workers on) and the
 * FreeSWITCH peer, and places calls at a gentle rate: most are bridged and billed, a few callers are on the DNC
 * list or not valid numbers and are screened out. Prints an admin API key, the API and dashboard URLs, and a
 * summary line every few seconds. Ctrl-C stops placing calls, lets the calls in flight end, and exits.
 *
 *   npm run demo [-- --cps 2 --seconds 0 --talk-ms 6000-15000 --http-port 8080]
 *
 * --seconds 0 (the default) runs until Ctrl-C. Works in the schema DEMO_SCHEMA (default callx_demo) of
 * DATABASE_URL and under the Redis prefix DEMO_REDIS_PREFIX (default callx-demo:), so it leaves any other data
 * alone; re-running it re-seeds the same rows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Pool } from 'pg';
import { loadConfig } from '../app/config';
import { createLogger } from '../app/observability/logger';
import { startExchangeNode, type ExchangeNode } from '../app/exchange-node';
import { createSwitchAdapters } from '../app/switch/factory';
import { createApiKey } from '../app/store/api-keys';
import { addDncNumbers } from '../app/store/compliance-repo';
import { quoteIdent } from '../app/store/db';
import { FreeSwitchPeer } from '../test/peers/freeswitch';
import { freeswitchPlacer } from './load/placers';
import type { CallPlacer } from './load/call-driver';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
function number(name: string, fallback: string, min: number): number {
  const v = Number(arg(name, fallback));
  if (!Number.isFinite(v) || v < min) {
    process.stderr.write(`--${name} must be a number of at least ${min}\n`);
    process.exit(2);
  }
  return v;
}

const CPS = number('cps', '2', 0.1);
const SECONDS = number('seconds', '0', 0);
const HTTP_PORT = number('http-port', process.env.HTTP_PORT ?? '8080', 0);
const [TALK_MIN, TALK_MAX] = (() => {
  const m = /^(\d+)(?:-(\d+))?$/.exec(arg('talk-ms', '6000-15000'));
  if (!m) {
    process.stderr.write('--talk-ms must be a number of milliseconds or a range like 6000-15000\n');
    process.exit(2);
  }
  const lo = Number(m[1]);
  return [lo, Math.max(lo, Number(m[2] ?? m[1]))];
})();
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SCHEMA = process.env.DEMO_SCHEMA ?? 'callx_demo';
const PREFIX = process.env.DEMO_REDIS_PREFIX ?? 'callx-demo:';

const DIDS = ['+18885550100', '+18885550101', '+18885550102'];
/** A caller on the platform's DNC list, and one that is not a valid number: screened out when they call. */
const DNC_CALLER = '+13125550142';
const INVALID_CALLER = '+11235550100';
/** Buyers: what they bid, when they take calls, their caps and funds, and how their phones answer. */
const BUYERS = [
  { id: 'acme-insurance', bid: 3000, phone: '+15551230001', line: 'busy' as const, note: 'highest bid, its line is busy: the call fails over' },
  { id: 'best-quotes', bid: 2500, phone: '+15551230002', capConcurrency: 1, note: 'takes one call at a time' },
  { id: 'night-owl', bid: 4000, phone: '+15551230003', closedNow: true, note: 'closed right now (schedule)' },
  { id: 'shoestring', bid: 2200, phone: '+15551230004', balance: 5000, note: 'nearly out of funds' },
  { id: 'steady-leads', bid: 1500, phone: '+15551230005', note: 'a steady low bid' },
];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Idempotent: configuration is written again on every run (bids, schedules, caps); accounts are created once, so
 * balances carry on from the last run as the ledger has them (shoestring stays out of funds once it is).
 */
async function seed(node: ExchangeNode, now: Date): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => node.pool.query(sql, params);
  await q(`INSERT INTO accounts (id, kind, name, balance_cents) VALUES ('demo-seller', 'seller', 'Demo Seller', 0) ON CONFLICT (id) DO NOTHING`);
  await q(
    `INSERT INTO campaigns (id, seller_account_id, name, routing, floor_cents, payout_percent, duplicate_window_days)
     VALUES ('demo-auto', 'demo-seller', 'Auto insurance (demo)', 'second_price', 1000, 60, 0)
     ON CONFLICT (id) DO UPDATE SET active = true, floor_cents = 1000, payout_percent = 60, duplicate_window_days = 0`,
  );
  for (const did of DIDS) {
    await q(`INSERT INTO tracking_numbers (did, campaign_id, seller_account_id) VALUES ($1, 'demo-auto', 'demo-seller') ON CONFLICT (did) DO UPDATE SET active = true`, [did]);
  }
  // Open only on a weekday two days from now: closed whenever the demo runs.
  const closed = { timeZone: 'UTC', hours: { [(now.getUTCDay() + 2) % 7]: [[0, 1440]] } };
  for (const b of BUYERS) {
    await q(
      `INSERT INTO accounts (id, kind, name, balance_cents) VALUES ($1, 'buyer', $1, $2) ON CONFLICT (id) DO UPDATE SET active = true`,
      [b.id, b.balance ?? 10_000_000],
    );
    await q(
      `INSERT INTO buyer_targets (id, buyer_account_id, campaign_id, name, bid_cents, destination, schedule, cap_concurrency, answer_timeout_sec, convert_on_seconds)
       VALUES ($1, $1, 'demo-auto', $2, $3, $4, $5, $6, 10, 5)
       ON CONFLICT (id) DO UPDATE SET active = true, bid_cents = EXCLUDED.bid_cents, destination = EXCLUDED.destination, schedule = EXCLUDED.schedule,
         cap_concurrency = EXCLUDED.cap_concurrency, answer_timeout_sec = 10, convert_on_seconds = 5`,
      [b.id, b.note, b.bid, b.phone, b.closedNow ? JSON.stringify(closed) : null, b.capConcurrency ?? null],
    );
  }
  await addDncNumbers(node.pool, node.redis, 'global', [DNC_CALLER], 'demo: consumer asked not to be called');
  await node.snapshots.refreshNow();
}

/** Counts from the demo's database: what a newcomer wants to see move. */
async function summary(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ calls: number; bridged: number; rejected: number; no_buyer: number; settled: number; postings: number; reasons: Record<string, number> | null }>(
    `SELECT (SELECT count(*)::int FROM calls) AS calls,
            (SELECT count(*)::int FROM calls WHERE outcome = 'bridged') AS bridged,
            (SELECT count(*)::int FROM calls WHERE outcome = 'rejected') AS rejected,
            (SELECT count(*)::int FROM calls WHERE outcome = 'no_buyer_answered') AS no_buyer,
            (SELECT coalesce(sum(buyer_charge_cents), 0)::int FROM call_billing) AS settled,
            (SELECT count(*)::int FROM ledger_entries) AS postings,
            (SELECT jsonb_object_agg(reason, n) FROM (
               SELECT r ->> 'reason' AS reason, count(*)::int AS n FROM compliance_audit_log, jsonb_array_elements(reasons) r
               WHERE decision = 'block' AND r ->> 'reason' IS NOT NULL GROUP BY 1) x) AS reasons`,
  );
  const r = rows[0]!;
  const why = Object.entries(r.reasons ?? {}).map(([k, n]) => `${k} ${n}`).join(', ');
  return `calls ${r.calls}  bridged ${r.bridged}  screened out ${r.rejected}${why ? ` (${why})` : ''}  no buyer ${r.no_buyer}  settled $${(r.settled / 100).toFixed(2)} in ${r.postings} postings`;
}

/** Builds the dashboard the first time (as `npm run build` would), so the printed URL works. */
function ensureDashboard(dir: string): void {
  if (fs.existsSync(path.join(dir, 'index.html'))) return;
  process.stdout.write('building the dashboard (once)...\n');
  const root = path.join(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(root, 'app', 'dashboard', 'vite.config.mjs'), '--outDir', dir, '--emptyOutDir'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  const dashboardDir = path.resolve(process.env.DASHBOARD_DIR ?? path.join(__dirname, '..', 'dist', 'dashboard'));
  ensureDashboard(dashboardDir);
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(SCHEMA)}`);
  await admin.end();

  const peer = new FreeSwitchPeer({ detail: 'lean', record: false, playbackMs: 1500 });
  for (const b of BUYERS) peer.buyers.set(b.phone, b.line === 'busy' ? { kind: 'busy', afterMs: 400 } : { kind: 'answer', afterMs: 600 });
  const eslPort = await peer.listenInbound(0, '127.0.0.1');
  const outboundPort = await freePort();
  const config = loadConfig({
    ...process.env,
    DATABASE_URL,
    DATABASE_SCHEMA: SCHEMA,
    REDIS_PREFIX: PREFIX,
    HTTP_PORT: String(HTTP_PORT),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DASHBOARD_DIR: dashboardDir,
    SWITCHES: 'freeswitch',
    FS_OUTBOUND_HOST: '127.0.0.1',
    FS_OUTBOUND_PORT: String(outboundPort),
    FS_ESL_HOST: '127.0.0.1',
    FS_ESL_PORT: String(eslPort),
    FS_ESL_PASSWORD: 'ClueCon', // the peer's
    FS_BUYER_GATEWAY: 'buyers',
  });
  const logger = createLogger(config.LOG_LEVEL);
  const node = await startExchangeNode(config, logger, { switches: (core) => createSwitchAdapters(core.config, logger) });
  await seed(node, new Date());
  const key = (await createApiKey(node.pool, { role: 'admin', label: 'demo' })).key;
  const base = `http://127.0.0.1:${node.httpPort}`;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  out('callx demo: the exchange is up, with a FreeSWITCH peer playing the switch.');
  out(`  admin API key  ${key}   (shown once; try: curl -H 'Authorization: Bearer ${key}' ${base}/v1/calls?limit=5)`);
  out(`  API            ${base}/v1   (documented at ${base}/openapi.json)`);
  out(`  dashboard      ${base}/dashboard/   (log in with the key)`);
  out(`  database       schema ${SCHEMA} of ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}, Redis prefix ${PREFIX}`);
  out(`  buyers         ${BUYERS.map((b) => `${b.id} $${(b.bid / 100).toFixed(2)} (${b.note})`).join('; ')}`);
  out(`Placing ${CPS} calls per second to ${DIDS.join(', ')}${SECONDS > 0 ? ` for ${SECONDS} s` : ''}; Ctrl-C stops.`);

  const placer: CallPlacer = freeswitchPlacer(peer, { host: '127.0.0.1', port: outboundPort });
  const inFlight = new Set<Promise<unknown>>();
  let placed = 0;
  const place = (): void => {
    placed += 1;
    // Mostly fresh callers; every tenth is the DNC-listed one and every fifteenth not a valid number.
    const ani = placed % 10 === 0 ? DNC_CALLER : placed % 15 === 0 ? INVALID_CALLER : `+1813${String(2_000_000 + Math.floor(Math.random() * 7_999_999))}`;
    const talkMs = TALK_MIN + Math.floor(Math.random() * (TALK_MAX - TALK_MIN + 1));
    const call = placer.place({ ani, dnis: DIDS[placed % DIDS.length]!, talkMs });
    const done = call.finished.catch((err: Error) => logger.warn({ err: err.message, ani }, 'demo call failed'));
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  };

  const started = Date.now();
  const placing = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * CPS);
    while (placed < due) place();
    if (SECONDS > 0 && Date.now() - started >= SECONDS * 1000) void stop('time is up');
  }, 50);
  const reporting = setInterval(() => {
    summary(node.pool).then(
      (s) => out(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s] ${s}  in flight ${inFlight.size}`),
      (err: Error) => logger.warn({ err: err.message }, 'demo summary failed'),
    );
  }, 3000);

  let stopping = false;
  async function stop(why: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    clearInterval(placing);
    out(`Stopping (${why}): no new calls; waiting for the ${inFlight.size} in flight to end...`);
    const deadline = new Promise((r) => setTimeout(r, TALK_MAX + 15_000).unref());
    await Promise.race([Promise.all(inFlight), deadline]);
    clearInterval(reporting);
    await node.recorder?.drain();
    out(`Final: ${await summary(node.pool)}`);
    await node.stop();
    await peer.inbound.close();
    out('Stopped.');
    process.exit(0);
  }
  let signals = 0;
  const onSignal = (signal: string): void => {
    signals += 1;
    if (signals > 1) process.exit(130); // a second Ctrl-C: now
    void stop(signal).catch((err: Error) => {
      process.stderr.write(`demo: stopping failed: ${err.message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
