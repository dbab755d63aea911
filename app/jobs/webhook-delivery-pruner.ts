/**
 * Webhook delivery retention: every delivery is a row (its body included), so without this the table grows for as
 * long as the exchange runs. Deliveries done with (delivered, or dead) whose creation and last attempt are both
 * older than WEBHOOK_DELIVERY_RETENTION_DAYS are deleted, oldest first, in batches of `batchSize` (each its own
 * statement, so no long transaction or lock holds up the worker's updates). Pending and retrying ones are kept
 * whatever their age.
 *
 * Run by every process that runs the webhook worker, soon after start and then every `intervalMs`; one prune at a
 * time across processes: a Redis lock with an expiry, renewed between batches (as the billing sweep's).
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { pruneDeliveries } from '../store/webhook-repo';

/** Under the node's REDIS_PREFIX (the client passed in adds it). */
export const PRUNE_LOCK_KEY = 'webhooks:prune:lock';

export interface DeliveryRetention {
  /** the node's prefixed client, for the lock */
  redis: Redis;
  /** deliveries older than this are deleted once delivered or dead (WEBHOOK_DELIVERY_RETENTION_DAYS) */
  days: number;
  /** how often a process prunes; an hour */
  intervalMs?: number;
  /** deliveries per DELETE; 1000 */
  batchSize?: number;
  /** counts the deliveries deleted (callx_webhook_deliveries_pruned_total) */
  onPruned?: (deliveries: number) => void;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const DAY_MS = 86_400_000;
const LOCK_MS = 60_000;

export class WebhookDeliveryPruner {
  private timer: NodeJS.Timeout | undefined;
  private firstTimer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly log: Logger,
    private readonly opts: DeliveryRetention,
  ) {}

  start(): void {
    const intervalMs = this.opts.intervalMs ?? 3_600_000;
    const tick = (): void => {
      this.running ??= this.prune()
        .catch((err: Error) => this.log.warn({ err: err.message }, 'webhook delivery prune failed; the next one will try again'))
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
    this.firstTimer = setTimeout(tick, Math.min(intervalMs, 1000));
    this.firstTimer.unref();
  }

  /** Stops the timers and waits for a prune in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.firstTimer);
    await this.running;
  }

  /** One prune, if no other process is pruning (undefined then): the deliveries deleted. `now` is the clock. */
  async prune(now: Date = new Date()): Promise<number | undefined> {
    const { redis } = this.opts;
    const token = randomBytes(8).toString('hex');
    if ((await redis.set(PRUNE_LOCK_KEY, token, 'PX', LOCK_MS, 'NX')) !== 'OK') return undefined;
    try {
      const before = new Date(now.getTime() - this.opts.days * DAY_MS);
      const batchSize = this.opts.batchSize ?? 1000;
      let pruned = 0;
      for (;;) {
        const n = await pruneDeliveries(this.pool, before, batchSize);
        pruned += n;
        if (n > 0) this.opts.onPruned?.(n);
        if (n < batchSize || this.stopped) break;
        // Another process may hold the lock once this one lapsed: then it prunes, and this one stops.
        if ((await redis.eval(RENEW, 1, PRUNE_LOCK_KEY, token, LOCK_MS)) !== 1) break;
      }
      if (pruned > 0) this.log.info({ pruned, before, retentionDays: this.opts.days }, 'webhook deliveries past their retention deleted');
      return pruned;
    } finally {
      await redis.eval(RELEASE, 1, PRUNE_LOCK_KEY, token).catch(() => undefined);
    }
  }
}
