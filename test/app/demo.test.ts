/**
 * `npm run demo` through its real entry point: the script in a child process against the real Postgres and
 * Redis (a schema and prefix of this test's own). It must print the admin key and the URLs, show calls being
 * bridged and settled, and on Ctrl-C (SIGINT) let the calls in flight end and exit 0, leaving bridged calls and
 * ledger postings in its database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';

let infra: TestInfra;
let child: ChildProcess | undefined;

beforeAll(async () => {
  // The demo applies the migrations itself, into this empty schema.
  infra = await createTestInfra('demo', { migrate: false });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await infra?.cleanup();
});

it('seeds, places calls that are bridged and settled, and stops cleanly on SIGINT', async () => {
  const root = path.join(__dirname, '..', '..');
  child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'demo.ts'), '--cps', '4', '--talk-ms', '5500-6000', '--http-port', '0'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      DEMO_SCHEMA: infra.schema,
      DEMO_REDIS_PREFIX: infra.prefix,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));

  await eventually(async () => /admin API key\s+cx_\S+/.test(out), `the demo to start (output so far: ${out}${err})`, 30_000);
  expect(out).toMatch(/dashboard\s+http:\/\/127\.0\.0\.1:\d+\/dashboard\//);
  // A summary line with money settled: calls were bridged, ended, billed and posted to the ledger.
  await eventually(async () => /settled \$[1-9]\d*\.\d\d in [1-9]\d* postings/.test(out), `calls to be settled (output so far: ${out}${err})`, 45_000);

  child.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 40_000).unref())]);
  expect([code, err]).toEqual([0, '']);
  expect(out).toMatch(/Final: calls \d+ {2}bridged [1-9]/);
  expect(out).toContain('Stopped.');

  const { rows } = await infra.pool.query(
    `SELECT (SELECT count(*)::int FROM calls WHERE outcome = 'bridged') AS bridged,
            (SELECT count(*)::int FROM calls WHERE ended_at IS NULL) AS unfinished,
            (SELECT count(*)::int FROM compliance_audit_log WHERE decision = 'block') AS screened_out,
            (SELECT count(*)::int FROM ledger_entries) AS postings,
            (SELECT coalesce(sum(amount_cents), 0)::int FROM ledger_entries) AS ledger_sum`,
  );
  expect(rows[0].bridged).toBeGreaterThan(0);
  expect(rows[0].unfinished).toBe(0); // every call in flight at Ctrl-C ended and was recorded
  expect(rows[0].postings).toBeGreaterThan(0);
  expect(rows[0].ledger_sum).toBe(0); // double entry
}, 150_000);
