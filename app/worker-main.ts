import { billingSweepSettings, ConfigError, fraudRules, loadConfig, webhookRetentionDays, webhookRetry } from './config';
import { createLogger } from './observability/logger';
import { createPool } from './store/db';
import { migrate } from './store/migrate';
import { createRedis } from './cache/redis';
import { BillingWorker } from './jobs/billing-worker';
import { BillingSweep } from './jobs/billing-sweep';
import { billingQueue } from './jobs/queues';
import { FraudWorker } from './jobs/fraud-worker';
import { WebhookWorker } from './jobs/webhook-worker';
import { SecretBox } from './util/secret-box';

/**
 * A stand-alone job worker (`npm run worker`): settles ended calls from the billing queue, scores calls from
 * the fraud queue and sends webhooks in a process of its own, so call nodes can run with
 * BILLING_WORKER_ENABLED=false, FRAUD_WORKER_ENABLED=false and WEBHOOK_WORKER_ENABLED=false. Run as many as you
 * like: BullMQ shares the jobs, and one billing sweep runs at a time.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }, logger.child({ mod: 'postgres' }));
  if (config.MIGRATE_ON_START) await migrate(pool, logger.child({ mod: 'migrate' }));
  const redis = createRedis(config.REDIS_URL, config.REDIS_PREFIX, logger.child({ mod: 'redis' }), 'worker');
  let billed = 0;
  const worker = new BillingWorker(pool, redis, logger.child({ mod: 'billing' }), {
    redisUrl: config.REDIS_URL,
    redisPrefix: config.REDIS_PREFIX,
    concurrency: config.BILLING_CONCURRENCY,
    onBatch: (b) => (billed += b.calls),
  });
  worker.start();
  // Ended calls whose billing job Redis lost (README "Billing and fraud"); one sweep at a time across processes.
  const sweepSettings = billingSweepSettings(config);
  const sweepQueue = sweepSettings ? billingQueue({ redisUrl: config.REDIS_URL, redisPrefix: config.REDIS_PREFIX }) : undefined;
  const sweep = sweepSettings && sweepQueue ? new BillingSweep(pool, redis, sweepQueue, logger.child({ mod: 'billing-sweep' }), sweepSettings) : undefined;
  sweep?.start();
  let scored = 0;
  const fraud = new FraudWorker(pool, redis, logger.child({ mod: 'fraud' }), {
    redisUrl: config.REDIS_URL,
    redisPrefix: config.REDIS_PREFIX,
    rules: fraudRules(config),
    onScored: () => (scored += 1),
  });
  fraud.start();
  const retentionDays = webhookRetentionDays(config);
  const webhooks = new WebhookWorker(pool, logger.child({ mod: 'webhooks' }), {
    redisUrl: config.REDIS_URL,
    redisPrefix: config.REDIS_PREFIX,
    retry: webhookRetry(config),
    timeoutMs: config.WEBHOOK_TIMEOUT_MS, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
    concurrency: config.WEBHOOK_CONCURRENCY,
    box: SecretBox.fromKey(config.WEBHOOK_SECRET_KEY),
    // Old deliveries are deleted where webhooks are sent (one process at a time).
    retention: retentionDays ? { redis, days: retentionDays } : undefined,
  });
  webhooks.start();
  logger.info({ concurrency: config.BILLING_CONCURRENCY }, 'billing, fraud and webhook workers started');
  // Progress for a long backlog: one line a minute while jobs flow.
  const progress = setInterval(() => {
    if (billed > 0 || scored > 0) logger.info({ billed, scored }, 'jobs done in the last minute');
    billed = 0;
    scored = 0;
  }, 60_000);
  progress.unref();
  const stop = (): void => {
    Promise.all([sweep?.stop().then(() => sweepQueue?.close()), worker.stop(), fraud.stop(), webhooks.stop()])
      .then(() => pool.end())
      .then(() => {
        redis.disconnect();
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`worker failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
