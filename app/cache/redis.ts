import Redis from 'ioredis';
import type { Logger } from '../observability/logger';
import { Backoff } from '../util/backoff';

export type { Redis };

/**
 * An ioredis client that reconnects with capped, jittered backoff and says so in the log.
 * `keyPrefix` namespaces every key (tests give each file its own prefix); pub/sub channels are prefixed
 * by the callers themselves, since ioredis does not prefix channel names.
 */
export function createRedis(url: string, prefix: string, logger: Logger, name = 'redis', opts: { autoPipeline?: boolean } = {}): Redis {
  const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
  const client = new Redis(url, {
    keyPrefix: prefix,
    connectionName: name,
    // Auto-pipelining (commands of one event-loop turn leave in one write, flushed on setImmediate) for the call
    // path's connection: under load it turns a dozen small writes per call into a share of one.
    enableAutoPipelining: opts.autoPipeline ?? false,
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => {
      const delay = backoff.next();
      logger.warn({ client: name, attempt: times, delayMs: delay }, 'redis reconnecting');
      return delay;
    },
  });
  client.on('ready', () => {
    backoff.reset();
    logger.debug({ client: name }, 'redis ready');
  });
  client.on('error', (err: Error) => logger.warn({ client: name, err: err.message }, 'redis error'));
  return client;
}

export function isRedisReady(client: Redis): boolean {
  return client.status === 'ready';
}

/**
 * Closes a connection after the commands already queued on it are answered (QUIT goes out behind them), so
 * a library's fire-and-forget command (the socket.io adapter's unsubscribe, say) is not rejected with
 * "Connection is closed" as an unhandled error. Drops the connection outright if Redis does not answer in time.
 */
export async function closeRedis(client: Redis, timeoutMs = 2_000): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([client.quit().catch(() => 'failed' as const), timedOut]);
    if (outcome !== 'OK') client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
