import type { CapCounter } from '../domain/caps';
import type { CapLedger } from '../cache/cap-ledger';
import type { FundHold } from '../cache/fund-holds';
import type { CallLogger } from '../observability/logger';
import { Backoff } from '../util/backoff';

export interface LateReleaseOptions {
  /** tries after the failed one; with the default backoff about a minute in all */
  attempts?: number;
  initialMs?: number;
  maxMs?: number;
}

/**
 * Gives back, in the background, what a call could not give back when Redis refused (a blip, a failover): its
 * concurrency slots and its fund hold. Left alone they would be kept for their lease (hours), refusing the
 * target's and the buyer's good calls meanwhile. Only what is harmless to release twice is retried: a slot or a
 * hold released again changes nothing, but a period counter decremented by a release that reached Redis though
 * its answer did not would be decremented twice, so the call keeps counting toward its period caps (the safe side).
 * A hold must be scheduled only once its call can take no other hold of that buyer (the call flow waits until the
 * call is bridged or given up, and skips the bridged buyer's): a call holds once per buyer, so a later target of the
 * same buyer takes over the hold, and releasing it then would leave a bridged call holding nothing.
 * Billing releases the holds of every buyer a call rang as well (ledger-repo.ts); this covers the rest sooner.
 */
export class LateReleases {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly caps: CapLedger, private readonly opts: LateReleaseOptions = {}) {}

  schedule(log: CallLogger, callId: string, counters: readonly CapCounter[], hold?: FundHold): void {
    const slots = counters.filter((c) => c.kind === 'concurrency');
    if (this.stopped || (slots.length === 0 && !hold)) return;
    const backoff = new Backoff({ initialMs: this.opts.initialMs ?? 500, maxMs: this.opts.maxMs ?? 15_000 });
    const attempts = this.opts.attempts ?? 8;
    const attempt = (): void => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.caps.release(callId, slots, hold).then(
          () => log.info({ attempt: backoff.attempts, buyerId: hold?.buyerId }, 'released the cap slots and fund hold a failed release left'),
          (err: Error) => {
            if (backoff.attempts < attempts && !this.stopped) attempt();
            else log.error({ err: err.message, attempts: backoff.attempts, buyerId: hold?.buyerId }, 'gave up releasing cap slots and fund hold; their leases will expire (billing releases the hold)');
          },
        );
      }, backoff.next());
      timer.unref();
      this.timers.add(timer);
    };
    attempt();
  }

  /** Stops retrying (the node is stopping: its Redis connection is about to close). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
