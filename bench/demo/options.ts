/**
 * `npm run demo` options: command-line flags and the environment, checked before anything starts. A bad value is
 * a UsageError (the demo prints it with the usage and exits 2).
 */

import { parseFlags, UsageError } from '../../app/util/cli-flags';

export { UsageError };

export const USAGE = `npm run demo [-- options]

  --cps <n>              calls placed per second (default 2)
  --seconds <n>          stop after this many seconds; 0 runs until Ctrl-C (default 0)
  --talk-ms <ms|lo-hi>   how long a caller talks once bridged, fixed or a range (default 6000-15000)
  --http-port <port>     the exchange's HTTP port: API, dashboard (default $HTTP_PORT or 8080; 0: any free port)
  --no-dashboard-build   do not build the dashboard when dist/dashboard is missing
  --help                 this text

Environment: DATABASE_URL, REDIS_URL (where Postgres and Redis are), DEMO_SCHEMA (the Postgres schema the demo
works in, default callx_demo), DEMO_REDIS_PREFIX (its Redis key prefix, default callx-demo:), HTTP_HOST (default
127.0.0.1), DASHBOARD_DIR, LOG_LEVEL (default warn).`;

export interface DemoOptions {
  cps: number;
  /** 0: until a signal */
  seconds: number;
  talkMs: { min: number; max: number };
  httpHost: string;
  httpPort: number;
  /** the port was not asked for: if it is taken, any free one will do */
  httpPortIsDefault: boolean;
  buildDashboard: boolean;
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  redisPrefix: string;
  logLevel: string;
  dashboardDir?: string;
  help: boolean;
}

function num(name: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER, integer = false): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new UsageError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, not "${raw}"`);
  }
  return v;
}

function talkRange(raw: string): { min: number; max: number } {
  const m = /^(\d+)(?:-(\d+))?$/.exec(raw.trim());
  if (!m) throw new UsageError(`--talk-ms must be milliseconds or a range like 6000-15000, not "${raw}"`);
  const min = Number(m[1]);
  const max = Number(m[2] ?? m[1]);
  if (max < min) throw new UsageError(`--talk-ms: the range ${raw} ends before it starts`);
  if (max > 3_600_000) throw new UsageError('--talk-ms: at most an hour');
  return { min, max };
}

export function parseDemoOptions(argv: readonly string[], env: NodeJS.ProcessEnv): DemoOptions {
  const flags = parseFlags(argv, { values: ['cps', 'seconds', 'talk-ms', 'http-port'], switches: ['no-dashboard-build'] });
  const portFlag = flags.get('http-port');
  const envPort = env.HTTP_PORT || undefined;
  const schema = env.DEMO_SCHEMA || 'callx_demo';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new UsageError(`DEMO_SCHEMA must be a plain SQL identifier, not "${schema}"`);
  return {
    cps: num('--cps', flags.get('cps') ?? '2', 0.1, 200),
    seconds: num('--seconds', flags.get('seconds') ?? '0', 0),
    talkMs: talkRange(flags.get('talk-ms') ?? '6000-15000'),
    httpHost: env.HTTP_HOST || '127.0.0.1',
    httpPort: num(portFlag !== undefined ? '--http-port' : 'HTTP_PORT', portFlag ?? envPort ?? '8080', 0, 65535, true),
    httpPortIsDefault: portFlag === undefined && envPort === undefined,
    buildDashboard: !flags.has('no-dashboard-build'),
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    schema,
    redisPrefix: env.DEMO_REDIS_PREFIX || 'callx-demo:',
    logLevel: env.LOG_LEVEL || 'warn',
    dashboardDir: env.DASHBOARD_DIR || undefined,
    help: flags.has('help'),
  };
}

/** A URL without its password, for printing. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, (_m, user: string) => (user ? `//${user}@` : '//'));
}
