/**
 * The benchmarks' flags (bench/load/bench-args.ts): a bench refuses a flag it does not know or a bad value with
 * exit 2 and says why, and answers --help with its usage, before it touches Postgres or Redis. Through a real
 * entry point (bench/jobs.ts, spawned as `npm run bench:jobs` runs it), then the readers' checks one by one.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { BenchFlags } from '../../bench/load/bench-args';

const ROOT = path.join(__dirname, '..', '..');

function runBench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'jobs.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

it('stops a bench on an unknown flag or a bad value with exit 2 and the reason, and answers --help with its usage', () => {
  const unknown = runBench(['--call', '100']);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/^unknown option: --call\n\nnpm run bench:jobs/);
  expect(unknown.stdout).toBe('');

  const bad = runBench(['--calls', '-5']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toContain('--calls must be a whole number of at least 1, not "-5"');

  const help = runBench(['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('--fraud-concurrency <n>');
  expect(help.stderr).toBe('');
}, 120_000);

describe('the readers', () => {
  class Refused extends Error {}
  const flags = (entries: Record<string, string>) => new BenchFlags(new Map(Object.entries(entries)), (message) => {
    throw new Refused(message);
  });

  it('give the default when a flag is absent, and the value when it is good', () => {
    const f = flags({ rate: '2.5', concurrency: '1,16', switch: 'asterisk', scenarios: 'few,all', split: '' });
    expect(f.number('rate', 200, { min: 0.1 })).toBe(2.5);
    expect(f.number('seconds', 10, { min: 1 })).toBe(10);
    expect(f.numbers('concurrency', [1], { min: 1, integer: true })).toEqual([1, 16]);
    expect(f.numbers('cps', [300])).toEqual([300]);
    expect(f.oneOf('switch', ['freeswitch', 'asterisk'], 'freeswitch')).toBe('asterisk');
    expect(f.listOf('scenarios', ['mixed', 'all', 'few'], ['mixed'])).toEqual(['few', 'all']);
    expect(f.has('split')).toBe(true);
    expect(f.has('dist')).toBe(false);
  });

  it.each([
    ['not a number', { n: 'ten' }, (f: BenchFlags) => f.number('n', 1), '--n must be a number, not "ten"'],
    ['below the minimum', { n: '0' }, (f: BenchFlags) => f.number('n', 1, { min: 1 }), '--n must be a number of at least 1, not "0"'],
    ['above the maximum', { n: '70000' }, (f: BenchFlags) => f.number('n', 1, { min: 0, max: 65535, integer: true }), '--n must be a whole number from 0 to 65535, not "70000"'],
    ['a fraction for a whole number', { n: '1.5' }, (f: BenchFlags) => f.number('n', 1, { integer: true }), '--n must be a whole number, not "1.5"'],
    ['an empty item in a list', { n: '1,,2' }, (f: BenchFlags) => f.numbers('n', [1]), '--n must be a number, not ""'],
    ['a word not in the set', { mode: 'fast' }, (f: BenchFlags) => f.oneOf('mode', ['both', 'inprocess', 'split'], 'both'), '--mode must be both, inprocess or split, not "fast"'],
    ['a list item not in the set', { s: 'mixed,most' }, (f: BenchFlags) => f.listOf('s', ['mixed', 'few'], []), '--s: each must be mixed or few, not "most"'],
  ])('refuse %s', (_what, entries, read, message) => {
    expect(() => read(flags(entries))).toThrow(new Refused(message));
  });
});
