import type { LiveCall, LiveCallsRegistry } from '../cache/live-calls-registry';
import type { CapCounter } from '../domain/caps';
import type { CallIdentity } from './call-journal';
import type { Winner } from './call-ending';

/**
 * One call's entry in the live-call registry, kept current as the call moves: written when its reservation is
 * taken, on failover to another buyer and on the bridge, removed once its end is journaled. Each write is one
 * command on the node's auto-pipelined connection, not awaited (see LiveCallsRegistry).
 */
export class CallRegistration {
  private entry: LiveCall | undefined;

  constructor(
    private readonly registry: LiveCallsRegistry,
    private readonly identity: CallIdentity,
  ) {}

  /** A buyer's caps are reserved for the call (the first, or the next after a failed attempt). */
  reserved(campaign: { id: string; sellerAccountId: string }, winner: Winner, counters: CapCounter[]): void {
    const { callId, switchName, switchCallId, direction, ani, dnis, startedAt } = this.identity;
    this.entry = {
      callId, switchName, switchCallId, direction, ani, dnis, startedAt,
      state: 'setup',
      campaignId: campaign.id,
      sellerAccountId: campaign.sellerAccountId,
      winner: { targetId: winner.targetId, buyerAccountId: winner.buyerAccountId, priceCents: winner.priceCents },
      counters,
    };
    this.registry.put(this.entry);
  }

  /** The reservation was given back (a failed attempt, a caller gone): nothing is held until the next one. */
  released(): void {
    if (!this.entry) return;
    this.entry = { ...this.entry, winner: undefined, counters: [] };
    this.registry.put(this.entry);
  }

  bridged(at: Date): void {
    if (!this.entry) return;
    this.entry = { ...this.entry, state: 'bridged', bridgedAt: at.toISOString() };
    this.registry.put(this.entry);
  }

  /** The call's end is journaled: nobody else has anything to finish. */
  done(): void {
    if (!this.entry) return;
    this.entry = undefined;
    this.registry.remove(this.identity.callId);
  }
}
