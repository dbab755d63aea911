/**
 * A node whose start fails part-way (here: its HTTP port is taken, after Postgres, Redis, the queues and the
 * workers are up) closes what it had opened and says why: its Postgres connections are gone, its incarnation is
 * out of the live-call registry's node set (no sweep looks it up again), and a process that handles the error exits
 * on its own instead of hanging on open connections and workers.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Pool } from 'pg';
import { createTestInfra, eventually, TEST_DATABASE_URL, type TestInfra } from '../support/infra';
import { startTestNode } from '../support/node';
import { LAST_BEAT_KEY } from '../../app/cache/node-heartbeat';

let infra: TestInfra;
let blocker: net.Server;
let port: number;

beforeAll(async () => {
  infra = await createTestInfra('node_start_failure');
  blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  port = (blocker.address() as net.AddressInfo).port;
});

/** The incarnations the registry lists as holders of calls, and those with a last beat: none but live nodes'. */
const registered = async () => ({ nodes: await infra.redis.smembers('live:nodes'), lastBeats: await infra.redis.hkeys(LAST_BEAT_KEY) });

afterAll(async () => {
  await new Promise((resolve) => blocker?.close(resolve));
  await infra?.cleanup();
});

it('fails with the taken port in its error, and closes its Postgres connections', async () => {
  const appName = `callx_start_failure_${process.pid}`;
  const url = `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes('?') ? '&' : '?'}application_name=${appName}`;
  const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  const connections = async () => (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName])).rows[0]!.n;
  try {
    const failure = await startTestNode(infra, { HTTP_PORT: String(port), DATABASE_URL: url }).then(() => undefined, (err: Error) => err);
    expect(failure?.message).toEqual(expect.any(String)); // it failed (Error from another realm: no toBeInstanceOf)
    await eventually(async () => (await connections()) === 0, () => "the failed node's Postgres connections to close", 5_000);
    expect(failure!.message).toMatch(new RegExp(`^exchange node failed to start: cannot listen on HTTP 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    expect(await registered()).toEqual({ nodes: [], lastBeats: [] });
  } finally {
    await admin.end();
  }
}, 30_000);

it('leaves nothing open: a process that handles the error exits by itself', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'start-on-taken-port.ts'), infra.schema, infra.prefix, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await exited;
  clearTimeout(timer);
  expect(out).toContain('FAILED ');
  expect(code).toBe(0); // not killed: it had nothing left to wait for
  expect(out).toContain(`FAILED exchange node failed to start: cannot listen on HTTP 127.0.0.1:${port}`);
  expect(await registered()).toEqual({ nodes: [], lastBeats: [] });
}, 40_000);
