/**
 * bench:cps on a schema and Redis prefix of its own (`--schema NAME`: schema NAME, prefix `bench:NAME:`), so two
 * runs on one server do not clash: a short real run (one node, the FreeSWITCH peer, 2 calls/s) writes its calls
 * and keys there. A bad name is refused before anything is touched. `--mode bare` runs the bare ESL app in place of
 * the exchange: exactly the exchange's six commands and four events a bridged call, counted over the whole rate.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Pool } from 'pg';
import Redis from 'ioredis';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/infra';

const ROOT = path.join(__dirname, '..', '..');
const SCHEMA = `t_bench_cps_${randomBytes(3).toString('hex')}`;
const PREFIX = `bench:${SCHEMA}:`;
const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
const redis = new Redis(TEST_REDIS_URL);

async function keysUnder(prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'cps.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, REDIS_URL: TEST_REDIS_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, stdout, stderr });
  }));
}

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
  const keys = await keysUnder(PREFIX);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

it('runs on the schema and Redis prefix --schema names', async () => {
  const run = await runBench(['--schema', SCHEMA, '--mode', 'inprocess', '--cps', '2', '--seconds', '3', '--warmup-seconds', '0', '--idle-seconds', '0', '--concurrent', '0', '--buyers', '2', '--log-level', 'warn']);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
  expect(run.stdout).toContain('"name":"esl_call_setup_p50_ms"');
  const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${SCHEMA}.calls WHERE outcome = 'bridged'`);
  expect(rows[0]!.n).toBeGreaterThan(0);
  expect((await keysUnder(PREFIX)).length).toBeGreaterThan(0);
}, 180_000);

it('refuses a schema name that is not a plain identifier, before touching anything', async () => {
  const run = await runBench(['--schema', 'x; DROP SCHEMA public']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--schema must be a lower-case SQL identifier');
}, 60_000);

it('--mode bare: the bare app bridges every call with the exchange\'s six commands and four events, counted exactly', async () => {
  const run = await runBench(['--schema', SCHEMA, '--mode', 'bare', '--cps', '20', '--seconds', '3', '--warmup-seconds', '0', '--idle-seconds', '0', '--concurrent', '0']);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
  const figures = new Map(run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => {
    const f = JSON.parse(l) as { name: string; value: number; mode: string; bridged?: number; calls?: number };
    return [f.name, f];
  }));
  expect(figures.get('esl_commands_per_call')).toEqual(expect.objectContaining({ value: 6, mode: 'bare' }));
  expect(figures.get('esl_events_per_call')).toEqual(expect.objectContaining({ value: 4 }));
  const cpu = figures.get('exchange_cpu_ms_per_call');
  expect(cpu?.value).toBeGreaterThan(0);
  expect(cpu?.bridged).toBe(cpu?.calls);
}, 180_000);

it('refuses --mode bare with Asterisk', async () => {
  const run = await runBench(['--mode', 'bare', '--switch', 'asterisk']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--mode bare runs one bare app behind the FreeSWITCH peer');
}, 60_000);
