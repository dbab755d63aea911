import { spawn } from 'node:child_process';
import path from 'node:path';
import { findApiKey } from '../../app/store/api-keys';
import { createTestInfra, TEST_DATABASE_URL, type TestInfra } from '../support/infra';
import { seedAccount } from '../support/seed';

/** `npm run api-key`: a key bound to the wrong kind of account, or to none when it needs one, is refused with why. */
let infra: TestInfra;
beforeAll(async () => {
  infra = await createTestInfra('api_key_cli');
  await seedAccount(infra.pool, { id: 'shop', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'bidco', kind: 'buyer' });
});
afterAll(async () => infra?.cleanup());

function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'app', 'store', 'api-key-cli.ts'), ...args], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: infra.schema, LOG_LEVEL: 'warn' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

const keyCount = async () => (await infra.pool.query('SELECT count(*)::int AS n FROM api_keys')).rows[0].n as number;

it('prints a seller key that authenticates as that seller', async () => {
  const r = await cli('--role', 'seller', '--account', 'shop', '--label', 'ops');
  expect(r.code).toBe(0);
  const printed = JSON.parse(r.out) as { key: string; role: string; account: string };
  expect(printed).toMatchObject({ role: 'seller', account: 'shop' });
  expect((await findApiKey(infra.pool, printed.key))?.principal).toMatchObject({ role: 'seller', accountId: 'shop' });
});

it.each([
  [['--role', 'seller', '--account', 'bidco'], 'account bidco is a buyer account, not a seller account'],
  [['--role', 'buyer'], 'buyer keys need the buyer account they act for'],
  [['--role', 'buyer', '--account', 'nobody'], 'no account nobody'],
  [['--role', 'admin', '--account', 'shop'], 'admin keys act for the platform, not an account'],
])('refuses %j, says why and creates no key', async (args, why) => {
  const before = await keyCount();
  const r = await cli(...args);
  expect(r.code).toBe(1);
  expect(r.err).toContain(why);
  expect(r.out).toBe('');
  expect(await keyCount()).toBe(before);
});
