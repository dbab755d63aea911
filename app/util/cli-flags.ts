/**
 * Command-line flags for the project's commands (api-key, demo, simulate): `--name value`, `--name=value` and bare
 * switches, checked against the command's own list. An unknown flag or a missing value is a UsageError, which the
 * command prints with its usage and exits 2, so that a typo never runs something the user did not ask for.
 */
export class UsageError extends Error {}

export interface FlagSpec {
  /** flags that take a value */
  values: readonly string[];
  /** flags that stand alone (`--help` is always one) */
  switches?: readonly string[];
}

export function parseFlags(argv: readonly string[], spec: FlagSpec): Map<string, string> {
  const values = new Set(spec.values);
  const switches = new Set([...(spec.switches ?? []), 'help']);
  const found = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : '';
    if (a === '-h') found.set('help', '');
    else if (switches.has(name) && eq < 0) found.set(name, '');
    else if (values.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      found.set(name, value);
    } else throw new UsageError(`unknown option: ${a}`);
  }
  return found;
}

/**
 * For a command's entry point: the parsed flags, or (on `--help`) the usage on stdout and exit 0, or (on a bad
 * flag) the problem and the usage on stderr and exit 2.
 */
export function flagsOrExit(argv: readonly string[], spec: FlagSpec, usage: string): Map<string, string> {
  let flags: Map<string, string>;
  try {
    flags = parseFlags(argv, spec);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${usage}\n`);
    process.exit(2);
  }
  if (flags.has('help')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return flags;
}
