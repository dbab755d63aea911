import { loadConfig } from '../config';
import { createLogger } from '../observability/logger';
import { flagsOrExit, UsageError } from '../util/cli-flags';
import { createPool } from './db';
import { migrate } from './migrate';
import { createApiKey, keyAccountProblem, type Role } from './api-keys';

const USAGE = `npm run api-key -- --role admin|agent|seller|buyer [--account <id>] [--label <text>]
  (in the Docker image: node dist/app/store/api-key-cli.js --role ...)

Prints a new API key as JSON on stdout; the key is shown only this once (only its hash is stored).
  --role      what the key may do (README "Permissions"); required
  --account   the seller or buyer account a seller or buyer key acts for (admin and agent keys take none)
  --label     a note kept beside the key
Uses DATABASE_URL and DATABASE_SCHEMA, and first brings that schema's tables up to date (it says so on stderr
when it applies a migration).`;

/** Where the key goes, for the user to check: the database without its password, and the schema. */
function target(url: string, schema: string | undefined): string {
  return `${url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, (_m, user: string) => (user ? `//${user}@` : '//'))} schema ${schema ?? '(server default)'}`;
}

async function main(): Promise<void> {
  const flags = flagsOrExit(process.argv.slice(2), { values: ['role', 'account', 'label'] }, USAGE);
  const role = flags.get('role');
  // No default role: a bare command used to mint an admin key without a word.
  if (role === undefined) throw new UsageError('--role is required');
  if (!['admin', 'seller', 'buyer', 'agent'].includes(role)) throw new UsageError(`--role must be admin, seller, buyer or agent, not ${role}`);
  const account = flags.get('account');
  const config = loadConfig();
  const logger = createLogger('warn');
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }, logger);
  try {
    const migrated = await migrate(pool, logger);
    if (migrated.applied.length > 0) {
      process.stderr.write(`${target(config.DATABASE_URL, config.DATABASE_SCHEMA)}: applied ${migrated.applied.length} migration(s) (${migrated.applied.join(', ')})\n`);
    }
    const problem = await keyAccountProblem(pool, role as Role, account);
    if (problem) throw new Error(problem);
    const { id, key } = await createApiKey(pool, { role: role as Role, accountId: account, label: flags.get('label') });
    process.stderr.write(`created ${role === 'admin' || role === 'agent' ? 'an' : 'a'} ${role} key${account ? ` for account ${account}` : ''} in ${target(config.DATABASE_URL, config.DATABASE_SCHEMA)}; it is shown only once\n`);
    process.stdout.write(`${JSON.stringify({ id, role, account: account ?? null, key })}\n`);
  } finally {
    await pool.end();
  }
}

main().catch((err: Error) => {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`could not create the key: ${err.message}\n`);
  process.exit(1);
});
