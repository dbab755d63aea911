/**
 * A newcomer's first run: `npm run demo`. Checks Postgres and Redis, applies the migrations, seeds a demo market
 * (bench/demo/scenario.ts: a seller, a campaign with three tracking numbers, five buyers each showing one rule,
 * callers some of whom screening refuses), starts an exchange node in this process (recorder, billing and fraud
 * workers on), plays the switch with the FreeSWITCH test peer over real ESL, and places calls at a gentle rate. It
 * prints an admin API key, the API and dashboard URLs, and a summary line every few seconds read from the database.
 * Ctrl-C (or SIGTERM) stops placing calls, lets the calls in flight end, waits for them to be recorded and billed,
 * prints the final summary, closes everything and exits 0.
 *
 *   npm run demo [-- --cps 2 --seconds 0 --talk-ms 6000-15000 --http-port 8080 --no-dashboard-build]
 *
 * It works in the schema DEMO_SCHEMA (default callx_demo) of DATABASE_URL and under the Redis prefix
 * DEMO_REDIS_PREFIX (default callx-demo:), never in the exchange's own, so it leaves other data alone.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ConfigError, loadConfig } from '../app/config';
import { createLogger, type Logger } from '../app/observability/logger';
import { startExchangeNode, type ExchangeNode } from '../app/exchange-node';
import { createSwitchAdapters } from '../app/switch/factory';
import { createApiKey } from '../app/store/api-keys';
import { FreeSwitchPeer } from '../test/peers/freeswitch';
import { freeswitchPlacer } from './load/placers';
import { CallDriver } from './load/call-driver';
import { parseDemoOptions, redactUrl, UsageError, USAGE, type DemoOptions } from './demo/options';
import { BUYERS, CAMPAIGN, CAMPAIGN_ID, callerFor, DIDS, seedDemo } from './demo/scenario';
import { dollars, formatSummary, readSummary } from './demo/summary';
import { checkRedis, chooseHttpPort, ensureDashboard, freePort, preparePostgres, PreflightError } from './demo/preflight';

const SUMMARY_EVERY_MS = 3_000;
/** A terminal's Ctrl-C reaches the demo twice when npm runs it (from the terminal, and forwarded by npm). */
const SAME_SIGNAL_WITHIN_MS = 1_000;

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const elapsed = (since: number): string => `[${String(Math.round((Date.now() - since) / 1000)).padStart(4)}s]`;

interface Running {
  opts: DemoOptions;
  logger: Logger;
  node: ExchangeNode;
  peer: FreeSwitchPeer;
  driver: CallDriver;
  /** when this run began (the exchange's clock, which stamps the calls): the summary counts calls from then on */
  since: Date;
  startedAt: number;
  timers: NodeJS.Timeout[];
}

async function start(opts: DemoOptions, stopRequested: () => boolean): Promise<Running | undefined> {
  const dashboardDir = path.resolve(opts.dashboardDir ?? path.join(__dirname, '..', 'dist', 'dashboard'));
  await preparePostgres(opts.databaseUrl, opts.schema);
  await checkRedis(opts.redisUrl);
  const httpPort = await chooseHttpPort(opts.httpHost, opts.httpPort, opts.httpPortIsDefault, out);
  await ensureDashboard(dashboardDir, opts.buildDashboard, out);
  if (stopRequested()) return undefined;

  const peer = new FreeSwitchPeer({ detail: 'lean', record: false, playbackMs: 1500 });
  for (const b of BUYERS) peer.buyers.set(b.phone, b.line === 'busy' ? { kind: 'busy', afterMs: 400 } : { kind: 'answer', afterMs: 600 });
  const eslPort = await peer.listenInbound(0, '127.0.0.1');
  const outboundPort = await freePort('127.0.0.1');
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: opts.databaseUrl,
    DATABASE_SCHEMA: opts.schema,
    REDIS_URL: opts.redisUrl,
    REDIS_PREFIX: opts.redisPrefix,
    HTTP_HOST: opts.httpHost,
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: opts.logLevel,
    DASHBOARD_DIR: dashboardDir,
    MIGRATE_ON_START: 'true',
    RECORDER_ENABLED: 'true',
    BILLING_WORKER_ENABLED: 'true',
    FRAUD_WORKER_ENABLED: 'true',
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
  const runId = `${new Date().toISOString()}-${randomBytes(3).toString('hex')}`;
  const seeded = await seedDemo(node, new Date(), runId);
  await node.snapshots.refreshNow();
  const key = (await createApiKey(node.pool, { role: 'admin', label: `demo ${runId}` })).key;

  const base = `http://${opts.httpHost === '0.0.0.0' || opts.httpHost === '::' ? '127.0.0.1' : opts.httpHost}:${node.httpPort}`;
  // One write: the banner is never split by a log line or read half-written by a program watching the output.
  const banner: string[] = ['callx demo: the exchange is up, with a FreeSWITCH peer playing the switch.'];
  banner.push(`  admin API key  ${key}   (shown once; try: curl -H 'Authorization: Bearer ${key}' '${base}/v1/calls?limit=5')`);
  banner.push(`  API            ${base}/v1   (every route at ${base}/openapi.json)`);
  banner.push(`  dashboard      ${base}/dashboard/   (log in with the key)`);
  banner.push(`  data           schema ${opts.schema} of ${redactUrl(opts.databaseUrl)}, Redis prefix ${opts.redisPrefix}`);
  banner.push(`  campaign       ${CAMPAIGN_ID}, tracking numbers ${DIDS.join(', ')}; floor ${dollars(CAMPAIGN.floorCents)}, ${CAMPAIGN.routing.replace('_', ' ')}, the seller gets ${CAMPAIGN.payoutPercent}%`);
  banner.push('  buyers');
  for (const b of BUYERS) banner.push(`    ${b.id.padEnd(15)} bids ${dollars(b.bidCents)}  ${b.note}${seeded.toppedUp.has(b.id) ? `; funds topped up to ${dollars(b.fundsCents)}` : ''}`);
  banner.push('  callers        fresh numbers; every 10th call from a number on the DNC list, every 15th from an invalid one');
  const talk = opts.talkMs.min === opts.talkMs.max ? `${opts.talkMs.min / 1000}` : `${opts.talkMs.min / 1000}-${opts.talkMs.max / 1000}`;
  banner.push(`Placing ${opts.cps} calls per second${opts.seconds > 0 ? ` for ${opts.seconds} s` : ''}, talks of ${talk} s; Ctrl-C stops.`);
  out(banner.join('\n'));

  const driver = new CallDriver(freeswitchPlacer(peer, { host: '127.0.0.1', port: outboundPort }), { dnis: DIDS, talkMs: opts.talkMs.min });
  return { opts, logger, node, peer, driver, since: new Date(), startedAt: Date.now(), timers: [] };
}

function placeCalls(r: Running, onTimeUp: () => void): void {
  const { cps, seconds, talkMs } = r.opts;
  r.timers.push(
    setInterval(() => {
      const due = Math.floor(((Date.now() - r.startedAt) / 1000) * cps);
      while (r.driver.stats.placed < due) {
        r.driver.place(talkMs.min + Math.floor(Math.random() * (talkMs.max - talkMs.min + 1)), callerFor(r.driver.stats.placed + 1));
      }
      if (seconds > 0 && Date.now() - r.startedAt >= seconds * 1000) onTimeUp();
    }, 50),
  );
  let reading = false;
  r.timers.push(
    setInterval(() => {
      if (reading) return; // a slow database: skip a beat rather than pile up queries
      reading = true;
      readSummary(r.node.pool, r.since)
        .then((s) => out(`${elapsed(r.startedAt)} ${formatSummary(s)}`))
        .catch((err: Error) => r.logger.warn({ err: err.message, schema: r.opts.schema }, 'demo: reading the summary failed'))
        .finally(() => (reading = false));
    }, SUMMARY_EVERY_MS),
  );
}

/** Polls until billing has settled every ended call of the run (or the time runs out). */
async function waitForBilling(r: Running, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { unbilled } = await readSummary(r.node.pool, r.since);
    if (unbilled === 0) return;
    if (Date.now() > deadline) throw new Error(`${unbilled} ended calls are still not billed after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Stops placing calls, lets those in flight end, waits for recording and billing, closes. True when all went well. */
async function shutdown(r: Running, why: string): Promise<boolean> {
  for (const t of r.timers.splice(0)) clearInterval(t);
  const graceMs = r.opts.talkMs.max + 15_000;
  out(`Stopping (${why}): no new calls; letting the ${r.driver.stats.active} in flight end (at most ${Math.ceil(graceMs / 1000)} s)...`);
  let ok = true;
  const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      ok = false;
      r.logger.error({ err: (err as Error).message, step: what, schema: r.opts.schema }, `demo: ${what} failed`);
      out(`  ${what} failed: ${(err as Error).message}`);
    }
  };
  const progress = setInterval(() => {
    const n = r.driver.stats.active;
    out(`${elapsed(r.startedAt)} ${n} call${n === 1 ? '' : 's'} still in flight...`);
  }, SUMMARY_EVERY_MS);
  await step('waiting for the calls in flight', () => r.driver.settle(graceMs));
  clearInterval(progress);
  await step('recording the last calls', async () => r.node.recorder?.drain(15_000));
  await step('billing the last calls', () => waitForBilling(r, 30_000));
  await step('reading the final summary', async () => out(`Final: ${formatSummary(await readSummary(r.node.pool, r.since))}`));
  const odd = [...r.driver.stats.errors].filter(([why]) => !why.startsWith('hangup_') && !why.startsWith('bridge_'));
  if (odd.length > 0) out(`  calls the switch could not complete: ${odd.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  await step('stopping the exchange', () => r.node.stop());
  await step('stopping the FreeSWITCH peer', () => r.peer.close());
  return ok;
}

async function main(): Promise<void> {
  let opts: DemoOptions;
  try {
    opts = parseDemoOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`demo: ${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (opts.help) {
    out(USAGE);
    return;
  }

  let running: Running | undefined;
  let requested: { signal: string; at: number } | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (why: string): void => {
    if (!running || stopping) return;
    const r = running;
    stopping = shutdown(r, why).then(
      (ok) => {
        out(ok ? 'Stopped.' : 'Stopped, with the errors above.');
        process.exit(ok ? 0 : 1);
      },
      (err: Error) => {
        process.stderr.write(`demo: stopping failed: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (requested) {
      if (Date.now() - requested.at < SAME_SIGNAL_WITHIN_MS) return;
      out(`${signal} again: exiting now, without waiting for the calls in flight.`);
      process.exit(130);
    }
    requested = { signal, at: Date.now() };
    if (running) stop(signal);
    else out(`${signal}: stopping once the exchange has started...`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  running = await start(opts, () => requested !== undefined);
  if (!running) {
    out('Stopped before the exchange started.');
    process.exit(0);
  }
  if (requested) stop(requested.signal);
  else placeCalls(running, () => stop('time is up'));
}

main().catch((err: Error) => {
  if (err instanceof PreflightError) process.stderr.write(`demo: ${err.message}\n`);
  else if (err instanceof ConfigError) {
    process.stderr.write(`demo: ${err.message}\n`);
    process.exit(2);
  } else process.stderr.write(`demo failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
