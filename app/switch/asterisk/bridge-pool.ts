/**
 * Empty mixing bridges kept for the next call (issue 17: requests per call). Asterisk keeps a bridge made over
 * ARI until the app destroys it, empty or not (recording G: after both legs left, DELETE /bridges still found
 * it), so a bridge whose two channels have left can take the next call as it is: a call that finds one here
 * needs neither `POST /bridges` nor, at its end, `DELETE /bridges`. Only a bridge known empty comes back (both
 * legs seen leaving Stasis); anything in doubt is destroyed instead.
 *
 * Beyond its size the pool still keeps what a burst of calls gives back, for as long as it is needed: every
 * `lingerMs` it destroys the bridges beyond its size that were never needed in that period (the fewest idle at any
 * moment of it). So calls at a steady level above the size, or a dip and a rise within the period, cost no
 * `POST /bridges` and `DELETE /bridges`; after a peak the pool shrinks back to its size within two periods.
 *
 * The idle bridges are registered with the router as ours, so reconciliation does not take them for orphans;
 * after a reconnect, those the switch no longer lists (or lists with channels in them) are dropped. stop()
 * destroys them; a node that dies leaves them to the next one's reconciliation (our id prefix, nothing in them).
 */
import type { Logger } from '../../observability/logger';
import type { AriBridge, AriEvent } from './ari-model';
import type { AriRest } from './ari-rest';
import type { ChannelRouter, EventOwner } from './channel-router';
import { logCleanupError } from './leg-context';

export class BridgePool implements EventOwner {
  /** Idle bridge ids, oldest first. */
  private readonly idle = new Set<string>();
  private closed = false;
  /** The fewest idle bridges at any moment of the current period: those beyond it were not needed in it. */
  private lowWater = 0;
  private readonly trimTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rest: AriRest,
    private readonly router: ChannelRouter,
    /** Most idle bridges kept longer than a period; 0: no pooling (a bridge given back is destroyed). */
    private readonly max: number,
    private readonly track: (work: Promise<unknown>) => void,
    private readonly log: Logger,
    lingerMs: number,
  ) {
    if (max > 0) {
      this.trimTimer = setInterval(() => this.trim(), lingerMs);
      this.trimTimer.unref();
    }
  }

  get size(): number {
    return this.idle.size;
  }

  /** An idle bridge for a call (the caller registers itself as its owner), or undefined: create one. */
  take(): string | undefined {
    for (const id of this.idle) {
      this.idle.delete(id);
      if (this.idle.size < this.lowWater) this.lowWater = this.idle.size;
      return id;
    }
    this.lowWater = 0;
    return undefined;
  }

  /** A bridge both legs of a call have left: kept for the next call (see trim), or destroyed with no pool. */
  give(bridgeId: string): void {
    if (this.closed || this.max === 0) {
      this.destroy(bridgeId);
      return;
    }
    this.idle.add(bridgeId);
    this.router.addBridge(bridgeId, this);
  }

  /** End of a period: destroys the bridges beyond the pool's size that no call needed in it, oldest first. */
  private trim(): void {
    let surplus = Math.min(this.lowWater, this.idle.size - this.max);
    this.lowWater = this.idle.size - Math.max(0, surplus);
    if (surplus <= 0) return;
    this.log.debug({ idle: this.idle.size, destroying: surplus }, 'bridge pool: destroying bridges no call needed');
    for (const id of this.idle) {
      if (surplus-- <= 0) break;
      this.idle.delete(id);
      this.destroy(id);
    }
  }

  /** Destroys a bridge that is not to be reused (its state in doubt, no pool, or no call needed it). */
  destroy(bridgeId: string): void {
    this.track(
      this.rest
        .destroyBridge(bridgeId)
        .catch((err: unknown) => logCleanupError(this.log, 'destroying the bridge', err))
        .then(() => this.router.removeBridge(bridgeId)),
    );
  }

  onEvent(ev: AriEvent): void {
    if (ev.type === 'BridgeDestroyed' && ev.bridge) this.forget(ev.bridge.id);
  }

  /** After a reconnect: keep only the idle bridges the switch still has, empty. */
  checkAgainst(bridges: AriBridge[]): void {
    const live = new Map(bridges.map((b) => [b.id, b]));
    for (const id of [...this.idle]) {
      const b = live.get(id);
      if (b && b.channels.length === 0) continue;
      this.log.warn({ bridge: id, channels: b?.channels }, 'reconcile: an idle bridge is gone or not empty; no longer reused');
      this.forget(id);
    }
  }

  /** stop(): no more reuse; the idle bridges are destroyed. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.trimTimer);
    const ids = [...this.idle];
    this.idle.clear();
    await Promise.all(
      ids.map((id) =>
        this.rest
          .destroyBridge(id)
          .catch((err: unknown) => logCleanupError(this.log, 'destroying an idle bridge', err))
          .then(() => this.router.removeBridge(id, this)),
      ),
    );
  }

  private forget(id: string): void {
    if (!this.idle.delete(id)) return;
    if (this.idle.size < this.lowWater) this.lowWater = this.idle.size;
    this.router.removeBridge(id, this);
  }
}
