import { ConfigError, loadConfig } from './config';
import { createLogger } from './observability/logger';
import { createPool } from './store/db';
import { migrate } from './store/migrate';
import { createRedis } from './cache/redis';
import { CallRecorder } from './store/call-recorder';
import { billingQueue, enqueueForCommitted, fraudQueue, webhookQueue } from './jobs/queues';

/**
 * A stand-alone call recorder (`npm run recorder`): copies the call journal into Postgres in a process of its
 * own, so nodes that handle calls can run with RECORDER_ENABLED=false and keep their CPU for calls.
 * Run as many as you like: they share the journal's consumer group.
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
  const redis = createRedis(config.REDIS_URL, config.REDIS_PREFIX, logger.child({ mod: 'redis' }), 'recorder');
  const settings = { redisUrl: config.REDIS_URL, redisPrefix: config.REDIS_PREFIX };
  const queues = { billing: billingQueue(settings), fraud: fraudQueue(settings), webhooks: webhookQueue(settings) };
  const recorder = new CallRecorder(pool, redis, logger.child({ mod: 'recorder' }), {
    consumer: `recorder-${config.NODE_ID}`,
    // Longer than a node's in-process recorder (100 ms): no call waits on this process's event loop, and batches
    // 2.5 times as large halve what each batch costs per call here, in Postgres (statements, transactions) and in
    // the jobs the batch enqueues (one billing, fraud and webhook job per batch, each tens of Redis commands to add,
    // take and complete, and one worker transaction). A call reaches Postgres, and is billed, up to 150 ms later.
    gatherMs: 250,
    onCommitted: (entries) => enqueueForCommitted(queues, entries),
  });
  await recorder.start();
  logger.info('call recorder started');
  const stop = (): void => {
    recorder
      .stop()
      .then(() => Promise.all([queues.billing.close(), queues.fraud.close(), queues.webhooks.close()]))
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
  process.stderr.write(`recorder failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
