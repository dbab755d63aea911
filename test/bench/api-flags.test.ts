/**
 * bench:api reads its flags through the shared benchFlags (bench/load/bench-args.ts), as every other bench does: a
 * flag it does not know, or a bad value, stops it with exit 2 and the reason before it touches Postgres or Redis,
 * and --help answers with its usage. Spawned as `npm run bench:api` runs it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function runBench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'api.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('refuses an unknown flag and bad values with exit 2 and the reason, and answers --help with its usage', () => {
  const unknown = runBench(['--rsp', '500']);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/^unknown option: --rsp\n\nnpm run bench:api/);
  expect(unknown.stdout).toBe('');

  const mix = runBench(['--mix', 'lists']);
  expect(mix.status).toBe(2);
  expect(mix.stderr).toContain('--mix must be mixed, list, detail or bid, not "lists"');

  const rps = runBench(['--rps', '0']);
  expect(rps.status).toBe(2);
  expect(rps.stderr).toContain('--rps must be a whole number of at least 1, not "0"');

  const help = runBench(['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('--bid-seconds <n>');
  expect(help.stdout).toContain('--floor');
  expect(help.stderr).toBe('');
}, 120_000);
