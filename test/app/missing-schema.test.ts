/**
 * A DATABASE_SCHEMA that does not exist yet is created (issue 13, finding 11) by migrate() and so by each entry
 * point that migrates: `npm run migrate`, `npm run api-key` and a node's start-up; before, each failed with
 * Postgres's "no schema has been selected to create in".
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Pool } from 'pg';
import { createPool } from '../../app/store/db';
import { migrate } from '../../app/store/migrate';
import { findApiKey } from '../../app/store/api-keys';
import { silentLogger } from '../../app/observability/logger';
import Redis from 'ioredis';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/infra';
import { startTestNode } from '../support/node';

const admin = new Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
const made: string[] = [];
/** A schema name no one has created (dropped after the file). */
const freshSchema = (what: string): string => {
  const name = `t_missing_${what}_${randomBytes(3).toString('hex')}`;
  made.push(name);
  return name;
};
const tablesIn = async (schema: string): Promise<string[]> =>
  (await admin.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema])).rows.map((r) => r.table_name);

afterAll(async () => {
  for (const s of made) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

function run(script: string, schema: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'app', 'store', script), ...args], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, LOG_LEVEL: 'warn' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

it('migrate() creates the schema, then its tables, and again is a no-op', async () => {
  const schema = freshSchema('fn');
  const pool = createPool({ url: TEST_DATABASE_URL, schema }, silentLogger());
  try {
    const first = await migrate(pool, silentLogger());
    expect(first.applied.length).toBeGreaterThan(0);
    expect(await tablesIn(schema)).toEqual(expect.arrayContaining(['calls', 'accounts', 'api_keys', 'schema_migrations']));
    // Two at once on a fresh schema (two nodes starting together) both succeed.
    const other = freshSchema('race');
    const racers = [createPool({ url: TEST_DATABASE_URL, schema: other }, silentLogger()), createPool({ url: TEST_DATABASE_URL, schema: other }, silentLogger())];
    await Promise.all(racers.map((p) => migrate(p, silentLogger())));
    for (const p of racers) await p.end();
    expect(await tablesIn(other)).toContain('calls');
    expect((await migrate(pool, silentLogger())).applied).toEqual([]);
  } finally {
    await pool.end();
  }
});

it('npm run migrate creates a missing schema', async () => {
  const schema = freshSchema('cli');
  const r = await run('migrate-cli.ts', schema);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(await tablesIn(schema)).toContain('calls');
});

it('npm run api-key creates a missing schema and prints a key that works there', async () => {
  const schema = freshSchema('key');
  const r = await run('api-key-cli.ts', schema, '--role', 'admin');
  expect(r.code).toBe(0);
  const { key } = JSON.parse(r.out) as { key: string };
  const pool = createPool({ url: TEST_DATABASE_URL, schema }, silentLogger());
  try {
    expect(await findApiKey(pool, key)).toMatchObject({ principal: { role: 'admin' }, accountPaused: false });
  } finally {
    await pool.end();
  }
});

it('a node starts on a missing schema and serves from it', async () => {
  const schema = freshSchema('node');
  const prefix = `test:${schema}:`;
  const node = await startTestNode({ schema, prefix }, { BILLING_WORKER_ENABLED: 'false', FRAUD_WORKER_ENABLED: 'false', RECORDER_ENABLED: 'false' });
  try {
    expect((await fetch(`http://127.0.0.1:${node.httpPort}/ready`)).status).toBe(200);
    expect(await tablesIn(schema)).toContain('calls');
  } finally {
    await node.stop();
    const redis = new Redis(TEST_REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
});
