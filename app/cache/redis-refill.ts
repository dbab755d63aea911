import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';

/** Something calls need in Redis, copied from Postgres, with a marker key written with it. */
export interface RefillPart {
  name: string;
  /** whether Redis has it (its marker is there) */
  loaded(): Promise<boolean>;
  /** copies it from Postgres into Redis, marker included */
  load(): Promise<void>;
}

/** How often a connected node looks for the markers (one EXISTS per part). */
export const REFILL_CHECK_MS = 2_000;

/**
 * Refills Redis when it comes back without what calls need (the compliance lists, the buyers' funds figures): a
 * Redis restarted, flushed or failed over to an empty replica has lost them, and without them every call is refused
 * (both fail closed). Checked when the connection is ready again, and every REFILL_CHECK_MS while it is (a Redis
 * emptied without dropping the connection, FLUSHALL say, sends no 'ready'). One load at a time per part.
 */
export class RedisRefill {
  private readonly loading = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onReady = (): void => this.check();

  constructor(
    private readonly redis: Redis,
    private readonly parts: readonly RefillPart[],
    private readonly logger: Logger,
    private readonly checkMs = REFILL_CHECK_MS,
  ) {}

  start(): void {
    this.redis.on('ready', this.onReady);
    this.timer = setInterval(() => {
      if (this.redis.status === 'ready') this.check();
    }, this.checkMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.redis.off('ready', this.onReady);
  }

  private check(): void {
    for (const part of this.parts) {
      if (this.loading.has(part.name)) continue;
      const p = this.refill(part).finally(() => this.loading.delete(part.name));
      this.loading.set(part.name, p);
    }
  }

  private async refill(part: RefillPart): Promise<void> {
    try {
      if (await part.loaded()) return;
      const started = Date.now();
      this.logger.warn({ part: part.name }, 'missing from redis (restarted, flushed or failed over empty); reloading it from postgres');
      await part.load();
      this.logger.info({ part: part.name, ms: Date.now() - started }, 'reloaded into redis');
    } catch (err) {
      this.logger.error({ part: part.name, err: (err as Error).message }, 'reloading into redis failed; the next check tries again');
    }
  }
}
