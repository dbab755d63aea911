import type { CallLogger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { LegEnd } from '../switch/port';
import type { RankedBid } from '../domain/auction';
import type { CallIdentity, CallJournal, JournalEntry } from './call-journal';
import type { CallEventBus } from './call-events';

/** The buyer that took a call, and its price. */
export type Winner = Pick<RankedBid, 'targetId' | 'buyerAccountId' | 'priceCents'>;

/** How a call ended, in the record's words. */
export interface EndHow {
  outcome: string;
  endReason: string;
  rejectReason?: string;
  sellerAccountId?: string;
  winner?: Winner;
  /**
   * A call closed without its real end (its node was lost and the switch no longer has it): the end given is a
   * lower bound (when it was last known alive), and its billable seconds are rounded down, so what is billed is
   * never more than the call really lasted. The journal entry and the live event say so (`endIsLowerBound`).
   */
  endUnknown?: boolean;
}

export interface CallEndingDeps {
  journal: CallJournal;
  clock: () => Date;
  metrics?: Metrics;
  events?: CallEventBus;
}

/**
 * Writes a call's journal entries (retried, then logged loudly), its bridge attempts and its end: the one place an
 * end becomes a record, a live event and a metric, for calls routed here and calls adopted from another node alike.
 */
export class CallEnding {
  constructor(private readonly deps: CallEndingDeps) {}

  async recordEnd(identity: CallIdentity, end: LegEnd, log: CallLogger, how: EndHow): Promise<void> {
    const started = new Date(identity.startedAt).getTime();
    const durationSec = Math.max(0, Math.round((end.endedAt.getTime() - started) / 1000));
    const toSec = how.endUnknown ? Math.floor : Math.round;
    const billableSec = end.bridgedAt ? Math.max(0, toSec((end.endedAt.getTime() - end.bridgedAt.getTime()) / 1000)) : 0;
    this.deps.metrics?.callsTotal.inc({ direction: identity.direction, outcome: how.outcome, reason: how.rejectReason ?? '' });
    this.deps.events?.emit({
      type: 'call.ended',
      callId: identity.callId,
      at: end.endedAt.toISOString(),
      outcome: how.outcome,
      endReason: how.endReason,
      durationSec,
      billableSec,
      hangupCause: String(end.cause),
      sellerAccountId: how.sellerAccountId,
      buyerAccountId: how.winner?.buyerAccountId,
      priceCents: how.winner?.priceCents,
      ...(how.endUnknown ? { endIsLowerBound: true } : {}),
    });
    // The identity spread last, as in decision-entry.ts (spread first, each entry cost ~8 KB of new maps).
    await this.append(log, {
      type: 'ended',
      outcome: how.outcome,
      rejectReason: how.rejectReason,
      endReason: how.endReason,
      endedAt: end.endedAt.toISOString(),
      answeredAt: end.answeredAt?.toISOString(),
      bridgedAt: end.bridgedAt?.toISOString(),
      hangupCause: String(end.cause),
      hungUpBy: end.hungUpBy,
      durationSec,
      billableSec,
      winnerTargetId: how.winner?.targetId,
      winnerBuyerId: how.winner?.buyerAccountId,
      priceCents: how.winner?.priceCents,
      ...(how.endUnknown ? { endIsLowerBound: true as const } : {}),
      ...identity,
    });
  }

  /** One attempt (rung or passed over), shown live and journaled; it ends now. */
  async recordAttempt(
    identity: CallIdentity,
    log: CallLogger,
    sellerAccountId: string,
    a: { attemptNo: number; bid: RankedBid; status: string; cause?: string; startedAt: Date },
  ): Promise<void> {
    const endedAt = this.deps.clock().toISOString();
    const { bid } = a;
    this.deps.events?.emit({ type: 'call.attempt', callId: identity.callId, at: endedAt, attemptNo: a.attemptNo, targetId: bid.targetId, buyerAccountId: bid.buyerAccountId, status: a.status, cause: a.cause, sellerAccountId });
    await this.append(log, {
      type: 'attempt',
      attemptNo: a.attemptNo,
      targetId: bid.targetId,
      buyerAccountId: bid.buyerAccountId,
      destination: bid.destination,
      attemptStartedAt: a.startedAt.toISOString(),
      attemptEndedAt: endedAt,
      status: a.status,
      cause: a.cause,
      priceCents: bid.priceCents,
      ...identity, // last: see recordEnd
    });
  }

  /** The journal is the record of truth until the recorder copies it; a failed append is retried, then logged loudly. */
  async append(log: CallLogger, entry: JournalEntry): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.journal.append(entry);
        return;
      } catch (err) {
        if (attempt >= 3) {
          log.error({ err: (err as Error).message, entry }, 'call journal append failed; entry logged here instead');
          return;
        }
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }
}
