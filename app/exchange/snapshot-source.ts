import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import { loadConfigRows } from '../store/config-repo';
import { ConfigSnapshot } from './snapshot';

/** The Redis pub/sub channel (prefixed by hand: ioredis does not prefix channels) that says "config changed". */
export const configChannel = (prefix: string): string => `${prefix}config-changed`;

/** Tells every node to reload its snapshot. Call after committing a config change to Postgres. */
export async function publishConfigChanged(redis: Redis, prefix: string, what: string): Promise<void> {
  await redis.publish(configChannel(prefix), JSON.stringify({ what, at: new Date().toISOString() }));
}

/**
 * Holds the current snapshot and keeps it fresh: reloads on a config-changed message (coalescing bursts)
 * and on a slow timer as a safety net for a missed message (pub/sub is fire-and-forget).
 */
export class SnapshotSource {
  private snapshot = ConfigSnapshot.empty();
  private version = 0;
  private reloading: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<{ version: number; resolve: () => void }>();

  constructor(
    private readonly pool: Pool,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly safetyReloadMs = 60_000,
  ) {}

  current(): ConfigSnapshot {
    return this.snapshot;
  }

  async start(): Promise<void> {
    await this.reload('start');
    const channel = configChannel(this.prefix);
    this.subscriber.on('message', (ch: string) => {
      if (ch === channel) this.requestReload('config-changed');
    });
    await this.subscriber.subscribe(channel);
    this.timer = setInterval(() => this.requestReload('timer'), this.safetyReloadMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.subscriber.unsubscribe().catch(() => undefined);
    await this.reloading;
  }

  /** Resolves once a snapshot loaded after this call is in place (tests and the API use it). */
  async refreshNow(): Promise<void> {
    // A load already under way may have read the old rows: wait for the one after it.
    const target = this.version + (this.reloading ? 2 : 1);
    this.requestReload('explicit');
    await new Promise<void>((resolve) => {
      if (this.version >= target) resolve();
      else this.waiters.add({ version: target, resolve });
    });
  }

  private requestReload(why: string): void {
    if (this.reloading) {
      this.again = true; // a change arrived mid-load: load once more after, so it is not missed
      return;
    }
    this.reloading = this.reload(why).finally(() => {
      this.reloading = null;
      if (this.again) {
        this.again = false;
        this.requestReload('coalesced');
      }
    });
  }

  private async reload(why: string): Promise<void> {
    const started = Date.now();
    try {
      const rows = await loadConfigRows(this.pool);
      this.version += 1;
      this.snapshot = new ConfigSnapshot(rows, new Date(), this.version);
      this.logger.info({ why, version: this.version, campaigns: rows.campaigns.length, targets: rows.targets.length, ms: Date.now() - started }, 'config snapshot loaded');
      for (const w of this.waiters) {
        if (this.version >= w.version) {
          this.waiters.delete(w);
          w.resolve();
        }
      }
    } catch (err) {
      // Keep routing on the last good snapshot; the next message or timer tries again.
      this.logger.error({ why, err: (err as Error).message }, 'config snapshot reload failed; keeping the previous one');
      if (why === 'start') throw err;
    }
  }
}
