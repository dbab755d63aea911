/** What the benchmarks share to read their flags and figures. */
import { parseFlags, UsageError } from '../../app/util/cli-flags';

/** A benchmark's flags: those that take a value, those that stand alone, and its usage text. */
export interface BenchFlagSpec {
  values: readonly string[];
  switches?: readonly string[];
  /** printed on `--help` (stdout, exit 0) and after any problem with the flags (stderr, exit 2) */
  usage: string;
}

/** Bounds on a numeric flag (inclusive); `integer`: whole numbers only. */
export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/**
 * A benchmark's flags, read through app/util/cli-flags against its own list (`--name value`, `--name=value`, bare
 * switches). Every reader checks its value, so that a typo or a bad figure never starts a run that measures
 * something else: the problem goes to `fail` (an entry point's: the message and the usage on stderr, exit 2).
 */
export class BenchFlags {
  constructor(
    private readonly flags: ReadonlyMap<string, string>,
    private readonly fail: (message: string) => never,
  ) {}

  /** A switch given (`--split`), or a value flag given at all (for defaults that depend on it). */
  has(name: string): boolean {
    return this.flags.has(name);
  }

  string(name: string, fallback: string): string {
    return this.flags.get(name) ?? fallback;
  }

  /** One of a fixed set of words. */
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const v = this.flags.get(name) ?? fallback;
    if (!(choices as readonly string[]).includes(v)) this.fail(`--${name} must be ${orList(choices)}, not "${v}"`);
    return v as T;
  }

  number(name: string, fallback: number, rule: NumberRule = {}): number {
    const raw = this.flags.get(name);
    return raw === undefined ? fallback : this.checked(name, raw, rule);
  }

  /** A comma-separated list of numbers (`--concurrency 1,16`). */
  numbers(name: string, fallback: readonly number[], rule: NumberRule = {}): number[] {
    const raw = this.flags.get(name);
    return raw === undefined ? [...fallback] : raw.split(',').map((part) => this.checked(name, part, rule));
  }

  /** A comma-separated list of words from a fixed set (`--scenarios mixed,few`). */
  listOf<T extends string>(name: string, choices: readonly T[], fallback: readonly T[]): T[] {
    const raw = this.flags.get(name);
    if (raw === undefined) return [...fallback];
    const items = raw.split(',');
    for (const item of items) if (!(choices as readonly string[]).includes(item)) this.fail(`--${name}: each must be ${orList(choices)}, not "${item}"`);
    return items as T[];
  }

  /** A problem that involves more than one flag (`--nodes 2 needs --switch freeswitch`). */
  problem(message: string): never {
    return this.fail(message);
  }

  private checked(name: string, raw: string, { min, max, integer }: NumberRule): number {
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || (min !== undefined && v < min) || (max !== undefined && v > max)) {
      const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` of at least ${min}` : max !== undefined ? ` of at most ${max}` : '';
      this.fail(`--${name} must be ${integer ? 'a whole number' : 'a number'}${range}, not "${raw}"`);
    }
    return v;
  }
}

/**
 * For a benchmark's entry point: its flags, or (on `--help`/`-h`) its usage on stdout and exit 0, or (an unknown
 * flag, a missing or bad value) the problem and the usage on stderr and exit 2.
 */
export function benchFlags(argv: readonly string[], spec: BenchFlagSpec): BenchFlags {
  const exit2 = (message: string): never => {
    process.stderr.write(`${message}\n\n${spec.usage}\n`);
    process.exit(2);
  };
  let flags: Map<string, string>;
  try {
    flags = parseFlags(argv, spec);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return exit2(err.message);
  }
  if (flags.has('help')) {
    process.stdout.write(`${spec.usage}\n`);
    process.exit(0);
  }
  return new BenchFlags(flags, exit2);
}

function orList(choices: readonly string[]): string {
  return choices.length === 1 ? choices[0]! : `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
}

/**
 * `--name value` pairs and bare `--flag`s (as 'true'), unchecked: the older, lax form (bench/billing-sweep.ts still
 * reads its flags so); every other bench reads them with benchFlags, which refuses what it does not know.
 */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) out[a.slice(2)] = argv[i + 1] && !argv[i + 1]!.startsWith('--') ? argv[++i]! : 'true';
  }
  return out;
}

/** The p-th quantile (0..1) of values already sorted ascending. */
export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}
