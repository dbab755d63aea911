import { spawn } from 'node:child_process';
import path from 'node:path';

/** `npm run simulate`: --help prints the options instead of starting a load run; a flag it does not know stops it. */
function simulate(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', '..', 'bench', 'simulate.ts'), ...args]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(killer);
    resolve({ code, out, err });
  }));
}

it('--help prints the usage and exits 0 without placing a call', async () => {
  const r = await simulate('--help');
  expect(r.code).toBe(0);
  expect(r.out).toContain('npm run simulate -- [options]');
  expect(r.out).toContain('--buyer-answer-ms');
  expect(r.err).not.toContain('placed');
});

it.each([
  [['--cpss', '5'], 'unknown option: --cpss'],
  [['--cps'], '--cps needs a value'],
  [['--switch', 'kamailio'], '--switch must be freeswitch or asterisk, not "kamailio"'],
  [['--cps', 'fast'], '--cps must be a positive number, not "fast"'],
  [['--app', 'localhost'], '--app must be host:port, not "localhost"'],
])('%j is refused with why and the usage, exit 2', async (args, why) => {
  const r = await simulate(...args);
  expect(r.code).toBe(2);
  expect(r.err).toContain(why);
  expect(r.err).toContain('npm run simulate -- [options]');
  expect(r.out).toBe('');
});
