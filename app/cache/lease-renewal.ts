import type { Logger } from '../observability/logger';
import type { LiveCall } from './live-calls-registry';
import { CONCURRENCY_LEASE_MS, type CapLedger } from './cap-ledger';

export interface LeaseRenewalOptions {
  /** how long a renewed lease runs from the renewal (default CONCURRENCY_LEASE_MS, the lease a reservation takes) */
  leaseMs?: number;
  /** how often the node renews (default a quarter lease: a renewal may fail three times in a row before one lapses) */
  everyMs?: number;
  /** the node's clock, the one its reservations are made on */
  clock?: () => Date;
  /**
   * Whether a call's flow still runs on this node. An entry the node no longer runs (one whose removal Redis refused,
   * one claimed from a dead node and not settled yet) is not renewed: its lease lapses as before, so a stray entry
   * never holds a slot for the node's whole life.
   */
  isRunning?: (callId: string) => boolean;
}

/**
 * Keeps the leases of this node's calls alive while they are up (a call may outlast CONCURRENCY_LEASE_MS): on one
 * unref'd timer per node, not one per call, it reads the node's own live-call registry entries (every call it routes
 * or adopted, from reservation to journaled end, with the counters and the buyer it holds) and renews the
 * concurrency slots and fund holds of those whose flow still runs here. A node that dies renews nothing: its calls'
 * slots come back through the sweeper, or with the lease.
 */
export class LeaseRenewal {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly leaseMs: number;
  private readonly clock: () => Date;

  constructor(
    private readonly registry: { own(): Promise<LiveCall[]> },
    private readonly caps: Pick<CapLedger, 'renewLeases'>,
    private readonly logger: Logger,
    private readonly opts: LeaseRenewalOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? CONCURRENCY_LEASE_MS;
    this.clock = opts.clock ?? (() => new Date());
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.renew()
        .catch((err: Error) => this.logger.error({ err: err.message, leaseMs: this.leaseMs }, 'renewing the leases of live calls failed; retried at the next round, before any lapses'))
        .finally(() => (this.running = undefined));
    }, this.opts.everyMs ?? Math.floor(this.leaseMs / 4));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round: every call this node holds gets a lease of `leaseMs` from now. Answers how many leases moved. */
  async renew(): Promise<number> {
    const isRunning = this.opts.isRunning;
    const calls = (await this.registry.own()).filter((c) => !isRunning || isRunning(c.callId));
    if (calls.length === 0) return 0;
    const untilMs = this.clock().getTime() + this.leaseMs;
    const moved = await this.caps.renewLeases(calls.map((c) => ({ callId: c.callId, counters: c.counters, holdBuyerId: c.winner?.buyerAccountId })), untilMs);
    this.logger.debug({ calls: calls.length, moved, until: new Date(untilMs).toISOString() }, 'leases of live calls renewed');
    return moved;
  }
}
