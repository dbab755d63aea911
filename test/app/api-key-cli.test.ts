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

it('makes no key without --role: says the role is required, shows the usage and exits 2', async () => {
  const before = await keyCount();
  const r = await cli();
  expect(r.code).toBe(2);
  expect(r.err).toContain('--role is required');
  expect(r.err).toContain('--role admin|agent|seller|buyer');
  expect(r.out).toBe('');
  expect(await keyCount()).toBe(before);
});

it('refuses an unknown flag instead of ignoring it, and --help prints the usage without touching the database', async () => {
  const before = await keyCount();
  const typo = await cli('--role', 'admin', '--acount', 'shop');
  expect(typo.code).toBe(2);
  expect(typo.err).toContain('unknown option: --acount');
  const help = await cli('--help');
  expect(help.code).toBe(0);
  expect(help.out).toContain('shown only this once');
  expect(await keyCount()).toBe(before);
});

it('says where it created the key, and that it migrated a schema it found empty', async () => {
  const fresh = `${infra.schema}_fresh`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'app', 'store', 'api-key-cli.ts'), '--role', 'agent'], {
    env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: fresh, LOG_LEVEL: 'warn' },
  });
  let err = '';
  let out = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  await infra.pool.query(`DROP SCHEMA IF EXISTS "${fresh}" CASCADE`);
  expect(code).toBe(0);
  expect(err).toMatch(new RegExp(`schema ${fresh}: applied \\d+ migration\\(s\\) \\(001_core.sql`));
  expect(err).toContain(`created an agent key in`);
  expect(JSON.parse(out)).toMatchObject({ role: 'agent', account: null });
});

it('mints a key from the compiled command with plain node, as in the Docker image (which has no tsx)', async () => {
  const repo = path.join(__dirname, '..', '..');
  const outDir = path.join(repo, `.build-test-${process.pid}`);
  try {
    const tsc = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(repo, 'tsconfig.build.json'), '--outDir', outDir]);
    expect(await new Promise((resolve) => tsc.on('exit', resolve))).toBe(0);
    const child = spawn(process.execPath, [path.join(outDir, 'app', 'store', 'api-key-cli.js'), '--role', 'admin'], {
      env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: infra.schema, LOG_LEVEL: 'warn', NODE_OPTIONS: '' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    const printed = JSON.parse(out) as { key: string };
    expect((await findApiKey(infra.pool, printed.key))?.principal).toMatchObject({ role: 'admin' });
  } finally {
    await import('node:fs/promises').then((fs) => fs.rm(outDir, { recursive: true, force: true }));
  }
}, 120_000);
