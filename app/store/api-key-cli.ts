import { loadConfig } from '../config';
import { createLogger } from '../observability/logger';
import { createPool } from './db';
import { migrate } from './migrate';
import { createApiKey, keyAccountProblem, type Role } from './api-keys';

/** `npm run api-key -- --role admin [--account <id>] [--label text]`: prints a new API key (shown only once). */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const role = (arg('role') ?? 'admin') as Role;
  if (!['admin', 'seller', 'buyer', 'agent'].includes(role)) throw new Error(`--role must be admin, seller, buyer or agent, not ${role}`);
  const config = loadConfig();
  const logger = createLogger('warn');
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }, logger);
  try {
    await migrate(pool, logger);
    const problem = await keyAccountProblem(pool, role, arg('account'));
    if (problem) throw new Error(problem);
    const { id, key } = await createApiKey(pool, { role, accountId: arg('account'), label: arg('label') });
    process.stdout.write(`${JSON.stringify({ id, role, account: arg('account') ?? null, key })}\n`);
  } finally {
    await pool.end();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`could not create the key: ${err.message}\n`);
  process.exit(1);
});
