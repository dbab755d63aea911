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
