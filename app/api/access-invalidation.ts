/**
 * Revocation and pausing, on every node at once (issue 13, finding 4). The node that revokes a key or pauses (or
 * reactivates) an account publishes it over Redis pub/sub after the commit; every node, itself included, drops what
 * it cached of that key or account and closes its open /live sockets that the change refuses. The channel rides on
 * the node's config subscriber connection (see SnapshotSource), prefixed like the others. Pub/sub is
 * fire-and-forget: a node whose subscriber reconnects may have missed a message, so it treats the reconnection as
 * "everything may have changed" (cache cleared, sockets checked again); the cache's short lifetime bounds the rest.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../observability/logger';

/** The channel (prefixed by hand: ioredis does not prefix channels). */
export const accessChannel = (prefix: string): string => `${prefix}access-changed`;

/** What changed: one key, one account's keys, or (after a lost connection) possibly anything. */
export type AccessChange = { keyId: string } | { accountId: string } | { all: true };

const Message = z.union([z.object({ keyId: z.string().min(1) }), z.object({ accountId: z.string().min(1) })]);

/** Tells every node that a key was revoked or an account paused or reactivated. Call after the commit. */
export async function publishAccessRevoked(redis: Redis, prefix: string, change: { keyId: string } | { accountId: string }): Promise<void> {
  await redis.publish(accessChannel(prefix), JSON.stringify(change));
}

export class AccessInvalidation {
  private readonly listeners = new Set<(change: AccessChange) => void>();
  private connectedOnce = false;
  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== accessChannel(this.prefix)) return;
    let parsed: z.infer<typeof Message>;
    try {
      parsed = Message.parse(JSON.parse(message));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'ignoring a malformed access message');
      return;
    }
    this.emit(parsed);
  };
  private readonly onReady = (): void => {
    // The first 'ready' is the connection coming up; a later one is a reconnection that may have lost messages.
    if (this.connectedOnce) this.emit({ all: true });
    this.connectedOnce = true;
  };

  constructor(
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.connectedOnce = this.subscriber.status === 'ready';
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    await this.subscriber.subscribe(accessChannel(this.prefix));
  }

  stop(): void {
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onReady);
    this.listeners.clear();
  }

  /** Calls `fn` on every change heard; returns the function that stops it. */
  onChange(fn: (change: AccessChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(change: AccessChange): void {
    this.logger.info(change, 'access changed: cached keys dropped');
    for (const fn of this.listeners) {
      try {
        fn(change);
      } catch (err) {
        this.logger.error({ err: (err as Error).message, change }, 'an access change listener failed');
      }
    }
  }
}
