/**
 * `npm run demo` through its real entry point: `npm run demo` in a child process group of its own, against the real
 * Postgres and Redis (a schema and a Redis prefix of this test's own, removed afterwards). It must print the admin
 * key and the URLs, show calls bridged and settled, and on Ctrl-C, sent as a terminal sends it (to npm and the demo
 * alike), let the calls in flight end and exit 0, leaving its calls recorded and billed and the ledger balanced.
 * Also: seeding twice gives the same market back, and the options are checked before anything starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { BUYERS, CAMPAIGN_ID, DIDS, DNC_CALLER, INVALID_CALLER, callerFor, seedDemo } from '../../bench/demo/scenario';
import { parseDemoOptions, redactUrl, UsageError } from '../../bench/demo/options';
import { dollars, formatSummary } from '../../bench/demo/summary';
import { concurrencyCapKey } from '../../app/domain/caps';
import { blockNumber } from '../../app/store/compliance-repo';
import { complianceKeys } from '../../app/cache/compliance-keys';

const ROOT = path.join(__dirname, '..', '..');

describe('npm run demo', () => {
  let infra: TestInfra;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    // The demo applies the migrations itself, into this empty schema.
    infra = await createTestInfra('demo', { migrate: false });
  });

  afterAll(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await infra?.cleanup();
  });

  it('seeds, places calls that are bridged, screened and settled, and stops cleanly on Ctrl-C', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      DEMO_SCHEMA: infra.schema,
      DEMO_REDIS_PREFIX: infra.prefix,
      LOG_LEVEL: 'error',
    };
    delete env.HTTP_PORT;
    delete env.DASHBOARD_DIR;
    // Talks of 5.5-6.5 s: long enough to be paid (the buyers' convert_on_seconds is 5), short enough for a quick test.
    child = spawn('npm', ['run', '--silent', 'demo', '--', '--cps', '4', '--talk-ms', '5500-6500', '--http-port', '0', '--no-dashboard-build'], {
      cwd: ROOT,
      env,
      detached: true, // a process group of its own, like a terminal's foreground job
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.on('exit', (code, signal) => resolve({ code, signal })));
    const seen = () => `output so far:\n${out}\nstderr:\n${err}`;

    await eventually(async () => /admin API key\s+cx_\S+[\s\S]*Ctrl-C stops/.test(out), () => `the demo to start (${seen()})`, 90_000);
    expect(out).toMatch(/API\s+http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(out).toMatch(/dashboard\s+http:\/\/127\.0\.0\.1:\d+\/dashboard\//);
    // A summary line with calls bridged, screened out and money settled: recorded, billed and posted to the ledger.
    await eventually(
      async () => /bridged [1-9].*screened out [1-9].*settled \$[1-9][\d,]*\.\d\d/.test(out),
      () => `calls to be bridged, screened out and settled (${seen()})`,
      90_000,
    );

    // The printed key and URL work: an admin sees the calls.
    const key = /admin API key\s+(cx_\S+)/.exec(out)![1]!;
    const api = /API\s+(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)![1]!;
    const res = await fetch(`${api}/calls?limit=5`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);

    process.kill(-child.pid!, 'SIGINT'); // to npm and the demo at once, as Ctrl-C in a terminal
    const end = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 90_000).unref())]);
    expect({ end, err: err.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('npm ')) }).toEqual({ end: { code: 0, signal: null }, err: [] });
    expect(out).toMatch(/Stopping \(SIGINT\)/);
    expect(out).not.toMatch(/again: exiting now/); // the doubled Ctrl-C counted once
    expect(out).toMatch(/Final: calls \d+ \| bridged [1-9]/);
    expect(out).toMatch(/Stopped\.\n$/);

    const { rows } = await infra.pool.query(
      `SELECT (SELECT count(*)::int FROM calls) AS calls,
              (SELECT count(*)::int FROM calls WHERE outcome = 'bridged') AS bridged,
              (SELECT count(*)::int FROM calls WHERE ended_at IS NULL) AS unfinished,
              (SELECT count(*)::int FROM calls c WHERE NOT EXISTS (SELECT 1 FROM call_billing b WHERE b.call_id = c.id)) AS unbilled,
              (SELECT count(*)::int FROM compliance_audit_log WHERE decision = 'block') AS screened_out,
              (SELECT count(*)::int FROM ledger_transactions WHERE kind = 'call') AS call_postings,
              (SELECT coalesce(sum(amount_cents), 0)::int FROM ledger_entries) AS ledger_sum`,
    );
    expect(rows[0]).toEqual({ calls: expect.any(Number), bridged: expect.any(Number), unfinished: 0, unbilled: 0, screened_out: expect.any(Number), call_postings: expect.any(Number), ledger_sum: 0 });
    expect(rows[0].bridged).toBeGreaterThan(0);
    expect(rows[0].screened_out).toBeGreaterThan(0);
    expect(rows[0].call_postings).toBeGreaterThan(0);
    // The buyers' funds came from deposits in the ledger: every balance is the sum of its postings.
    const drift = await infra.pool.query(
      `SELECT a.id, a.balance_cents::bigint AS balance, coalesce(sum(e.amount_cents), 0)::bigint AS posted
       FROM accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id GROUP BY a.id HAVING a.balance_cents <> coalesce(sum(e.amount_cents), 0)`,
    );
    expect(drift.rows).toEqual([]);
    // The nearly-empty buyer ($50, bidding $22) took calls only while its funds, less what its calls in progress
    // held, covered them: once its holds reached its funds it got no more, and it ends within its credit (none).
    // Without fund holds it took every call the busier buyers left it and ended far below zero (issue 13).
    const shoestring = await infra.pool.query(
      `SELECT a.balance_cents::int AS balance, a.credit_limit_cents::int AS credit, count(b.call_id)::int AS charged
       FROM accounts a LEFT JOIN calls c ON c.winner_buyer_id = a.id LEFT JOIN call_billing b ON b.call_id = c.id AND b.converted
       WHERE a.id = 'shoestring' GROUP BY a.id`,
    );
    expect(shoestring.rows[0].charged).toBeGreaterThan(0);
    expect(shoestring.rows[0].balance).toBeGreaterThanOrEqual(-shoestring.rows[0].credit);
  }, 300_000);
});

describe('the demo market', () => {
  let infra: TestInfra;
  beforeAll(async () => {
    infra = await createTestInfra('demo_seed');
  });
  afterAll(async () => {
    await infra?.cleanup();
  });

  const snapshot = async () =>
    (
      await infra.pool.query(
        `SELECT (SELECT count(*)::int FROM accounts) AS accounts, (SELECT count(*)::int FROM campaigns) AS campaigns,
                (SELECT count(*)::int FROM tracking_numbers WHERE active) AS numbers, (SELECT count(*)::int FROM buyer_targets WHERE active) AS targets,
                (SELECT count(*)::int FROM dnc_entries) AS dnc, (SELECT count(*)::int FROM blocked_numbers) AS blocked,
                (SELECT jsonb_object_agg(id, balance_cents) FROM accounts WHERE kind = 'buyer') AS funds,
                (SELECT coalesce(sum(amount_cents), 0)::int FROM ledger_entries) AS ledger_sum`,
      )
    ).rows[0];

  it('is the same after any number of runs, whatever the last one left behind', async () => {
    await seedDemo(infra, new Date(), 'run-1');
    const first = await snapshot();
    expect(first).toMatchObject({ campaigns: 1, numbers: DIDS.length, targets: BUYERS.length, dnc: 1, blocked: 0, ledger_sum: 0 });
    expect(first.funds).toEqual(Object.fromEntries(BUYERS.map((b) => [b.id, b.fundsCents])));

    // What a run leaves: a buyer overdrawn, a number paused, a bid changed by hand, the DNC caller blocked by
    // fraud scoring, and (after a SIGKILL) a concurrency lease nobody will release.
    await infra.pool.query(
      `WITH t AS (INSERT INTO ledger_transactions (idempotency_key, kind, memo) VALUES ('spent', 'adjustment', 'test') RETURNING id)
       INSERT INTO ledger_entries (transaction_id, account_id, amount_cents) SELECT id, a, v FROM t, (VALUES ('shoestring', -9000), ('platform', 9000)) x(a, v)`,
    );
    await infra.pool.query(`UPDATE accounts SET balance_cents = balance_cents - 9000 WHERE id = 'shoestring'`);
    await infra.pool.query(`UPDATE accounts SET balance_cents = balance_cents + 9000 WHERE id = 'platform'`);
    await infra.pool.query('UPDATE tracking_numbers SET active = false WHERE did = $1', [DIDS[0]]);
    await infra.pool.query(`UPDATE buyer_targets SET bid_cents = 1, cap_concurrency = 50 WHERE id = 'best-quotes'`);
    await blockNumber(infra.pool, infra.redis, DNC_CALLER, 'fraud: velocity_minute (score 80)');
    await infra.redis.zadd(concurrencyCapKey('best-quotes'), Date.now() + 3_600_000, 'call-of-a-killed-run');

    await seedDemo(infra, new Date(), 'run-2');
    const second = await snapshot();
    expect(second).toEqual(first);
    const bq = await infra.pool.query(`SELECT bid_cents::int, cap_concurrency FROM buyer_targets WHERE id = 'best-quotes'`);
    expect(bq.rows[0]).toEqual({ bid_cents: 2500, cap_concurrency: 1 });
    expect(await infra.redis.exists(concurrencyCapKey('best-quotes'))).toBe(0);
    expect(await infra.redis.sismember(complianceKeys.blocked, DNC_CALLER)).toBe(0);
    const topUps = await infra.pool.query(`SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'deposit' AND idempotency_key LIKE 'demo:run-2:%'`);
    expect(topUps.rows[0].n).toBe(1); // only shoestring needed one
    const campaign = await infra.pool.query('SELECT floor_cents::int, payout_percent::float FROM campaigns WHERE id = $1', [CAMPAIGN_ID]);
    expect(campaign.rows[0]).toEqual({ floor_cents: 1000, payout_percent: 60 });
  });

  it('sends every tenth call from the DNC caller, every fifteenth from an invalid number, the rest from valid fresh numbers', () => {
    const callers = Array.from({ length: 300 }, (_, i) => callerFor(i + 1));
    expect(callers.filter((c) => c === DNC_CALLER)).toHaveLength(30);
    expect(callers.filter((c) => c === INVALID_CALLER)).toHaveLength(10); // 15, 45, 75, ...: not the tenths
    for (const c of callers.filter((x) => x !== DNC_CALLER && x !== INVALID_CALLER)) {
      expect(c).toMatch(/^\+1813[2-9]\d{6}$/);
      expect(c.slice(6, 8)).not.toBe('11'); // no N11 exchange (service codes are not valid numbers)
    }
  });
});

describe('demo options', () => {
  it('defaults to a gentle run on the local servers, in a schema and prefix of its own', () => {
    expect(parseDemoOptions([], {})).toEqual({
      cps: 2,
      seconds: 0,
      talkMs: { min: 6000, max: 15000 },
      httpHost: '127.0.0.1',
      httpPort: 8080,
      httpPortIsDefault: true,
      buildDashboard: true,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: 'redis://127.0.0.1:6379',
      schema: 'callx_demo',
      redisPrefix: 'callx-demo:',
      logLevel: 'warn',
      dashboardDir: undefined,
      help: false,
    });
  });

  it('takes flags in both spellings, and the environment', () => {
    const o = parseDemoOptions(['--cps', '5', '--seconds=30', '--talk-ms', '3000', '--http-port', '0', '--no-dashboard-build'], { DEMO_SCHEMA: 'my_demo', DEMO_REDIS_PREFIX: 'd:', HTTP_PORT: '9000' });
    expect(o).toMatchObject({ cps: 5, seconds: 30, talkMs: { min: 3000, max: 3000 }, httpPort: 0, httpPortIsDefault: false, buildDashboard: false, schema: 'my_demo', redisPrefix: 'd:' });
    expect(parseDemoOptions([], { HTTP_PORT: '9000' })).toMatchObject({ httpPort: 9000, httpPortIsDefault: false });
  });

  it.each([
    [['--cps', '0'], /--cps must be a number from 0.1/],
    [['--cps'], /--cps needs a value/],
    [['--seconds', '-1'], /--seconds/],
    [['--talk-ms', '9000-3000'], /ends before it starts/],
    [['--talk-ms', 'long'], /--talk-ms must be/],
    [['--http-port', '70000'], /--http-port/],
    [['--speed', '3'], /unknown option: --speed/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDemoOptions(argv, {})).toThrow(UsageError);
    expect(() => parseDemoOptions(argv, {})).toThrow(message);
  });

  it('refuses a schema that is not a plain identifier', () => {
    expect(() => parseDemoOptions([], { DEMO_SCHEMA: 'x; DROP SCHEMA public' })).toThrow(/DEMO_SCHEMA/);
  });

  it('prints database URLs without their password', () => {
    expect(redactUrl('postgres://me:secret@db:5432/x')).toBe('postgres://me@db:5432/x');
    expect(redactUrl('redis://:secret@cache:6379')).toBe('redis://cache:6379');
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/postgres')).toBe('postgres://postgres@127.0.0.1:5432/postgres');
  });
});

describe('demo summary line', () => {
  it('says what moved, biggest counts first, money in dollars', () => {
    const line = formatSummary({
      calls: 41, bridged: 35, talking: 16, bridgedBy: { 'best-quotes': 3, shoestring: 20, 'steady-leads': 12 },
      screenedOut: 5, screenReasons: { invalid_caller: 1, dnc_global: 4 }, noBuyer: 0, other: {},
      skipped: { schedule_closed: 36, busy: 36, insufficient_funds: 16 },
      buyersPaidCents: 128_500, sellerEarnedCents: 77_100, platformKeptCents: 51_400, postings: 57, unbilled: 0,
    });
    expect(line).toBe(
      'calls 41 | bridged 35, 16 talking (shoestring 20, steady-leads 12, best-quotes 3) | screened out 5 (dnc_global 4, invalid_caller 1)'
      + ' | no buyer 0 | passed over: busy 36, schedule_closed 36, insufficient_funds 16 | settled $1,285.00 (seller $771.00, platform $514.00)',
    );
    expect(dollars(-300)).toBe('-$3.00');
  });
});
