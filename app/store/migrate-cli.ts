import { loadConfig } from '../config';
import { createLogger } from '../observability/logger';
import { createPool } from './db';
import { migrate } from './migrate';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (and DATABASE_SCHEMA) and exits. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }, logger);
  try {
    const r = await migrate(pool, logger);
    logger.info({ applied: r.applied, alreadyApplied: r.alreadyApplied.length }, 'migrations done');
  } finally {
    await pool.end();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`migration failed: ${err.message}\n`);
  process.exit(1);
});
