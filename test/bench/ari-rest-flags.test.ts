/**
 * bench:ari-rest reads its flags through the shared benchFlags (bench/load/bench-args.ts): a flag it does not know,
 * or a bad value, stops it with exit 2 and the reason before it starts its server, and --help answers with its usage.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function runBench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'ari-rest.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('refuses an unknown flag and bad values with exit 2 and the reason, and answers --help with its usage', () => {
  const unknown = runBench(['--call', '500']);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/^unknown option: --call\n\nnpm run bench:ari-rest/);
  expect(unknown.stdout).toBe('');

  const calls = runBench(['--calls', '1e3x']);
  expect(calls.status).toBe(2);
  expect(calls.stderr).toContain('--calls must be a whole number of at least 1, not "1e3x"');

  const rounds = runBench(['--rounds', '0']);
  expect(rounds.status).toBe(2);
  expect(rounds.stderr).toContain('--rounds must be a whole number of at least 1, not "0"');

  const help = runBench(['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('--rounds <n>');
  expect(help.stderr).toBe('');
}, 120_000);
