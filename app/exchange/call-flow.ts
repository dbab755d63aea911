import { randomUUID } from 'node:crypto';
import { lazyChild, type CallLogger, type Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { BridgeOutcome, CallInfo, CallLeg, HangupCause, LegEnd } from '../switch/port';
import type { CapLedger } from '../cache/cap-ledger';
import type { CapCounter } from '../domain/caps';
import type { FundHold } from '../cache/fund-holds';
import type { RankedBid } from '../domain/auction';
import type { CallIdentity, CallJournal, JournalEntry } from './call-journal';
import type { Decision, ReservedBid, Router, SkippedBid } from './router';
import { PROMPTS } from './router';
import type { RejectReason } from './trace';
import type { CallEventBus } from './call-events';
import type { OutboundClearance, OutboundClearances } from './outbound-clearances';

export interface CallFlowDeps {
  router: Router;
  journal: CallJournal;
  caps: CapLedger;
  logger: Logger;
  metrics?: Metrics;
  /** live events for dashboards and agents */
  events?: CallEventBus;
  /** What the outbound dialer decided before dialling, taken when a consumer's answered leg arrives. */
  clearances?: OutboundClearances;
  clock?: () => Date;
  newCallId?: () => string;
}

/** The buyer that took a call, and its price. */
type Winner = Pick<RankedBid, 'targetId' | 'buyerAccountId' | 'priceCents'>;

/**
 * What a bridged call keeps while it talks: who pays what, the concurrency slot to give back, and its buyer's fund
 * hold (left for billing to settle when it charges the call; given back by hand only if the call is never billed).
 */
interface BridgedCall {
  winner: Winner;
  counters: CapCounter[];
  hold: FundHold;
  sellerAccountId: string;
}

/** How the switch should end a rejected call: a cause the carrier understands. */
const REJECT_CAUSE: Record<RejectReason, HangupCause> = {
  unknown_number: 'UNALLOCATED_NUMBER',
  campaign_inactive: 'CALL_REJECTED',
  screened_out: 'CALL_REJECTED',
  no_eligible_buyer: 'NORMAL_TEMPORARY_FAILURE',
  caller_gone: 'ORIGINATOR_CANCEL',
  internal_error: 'NORMAL_TEMPORARY_FAILURE',
};

/**
 * One call's life through the exchange, start to end: decide (router), then bridge down the ranked list,
 * journaling each step. Knows nothing of ESL or ARI: it drives a CallLeg. Never throws: every failure
 * ends the call with a reason and a journal entry.
 */
export class CallFlow {
  private readonly clock: () => Date;
  private readonly newCallId: () => string;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: CallFlowDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.newCallId = deps.newCallId ?? randomUUID;
  }

  /** The switch adapters' InboundCallHandler. */
  readonly handle = (leg: CallLeg, info: CallInfo): void => {
    const p = this.run(leg, info).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  };

  /** Calls still being set up or bridged on this node. */
  get active(): number {
    return this.inFlight.size;
  }

  /** Waits for calls in progress (graceful shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  async run(leg: CallLeg, answered: CallInfo): Promise<void> {
    const callId = answered.callId ?? this.newCallId();
    // A consumer who answered our call: the request's zip and lead id come back with it (the switch does not
    // carry them), and its pre-dial verdict goes to the router.
    const cleared = answered.direction === 'outbound' && answered.callId ? this.deps.clearances?.take(answered.callId) : undefined;
    const info: CallInfo = cleared ? { ...answered, zip: answered.zip ?? cleared.zip, leadId: answered.leadId ?? cleared.leadId } : answered;
    const startedAt = this.clock();
    const log = lazyChild(this.deps.logger, { callId, switchCallId: info.switchCallId, switch: info.switchName });
    const identity: CallIdentity = {
      callId,
      direction: info.direction,
      ani: info.ani,
      dnis: info.dnis,
      startedAt: startedAt.toISOString(),
      switchName: info.switchName,
      switchCallId: info.switchCallId,
    };
    const ended = new Promise<LegEnd>((resolve) => leg.onEnded(resolve));
    this.deps.metrics?.activeCalls.inc();
    this.deps.events?.emit({ type: 'call.started', callId, at: identity.startedAt, direction: info.direction, ani: info.ani, dnis: info.dnis, switchName: info.switchName });
    try {
      // The decision (ranking, trace) lives in routeCall's frame only: once the call is bridged, what it needs
      // while it talks is a few fields. Held until the call ended, the decision was most of what a call in
      // progress kept alive (with 50 buyers, ~16 of ~26 KB), all of it moved to the old generation.
      const bridged = await this.routeCall(leg, info, identity, startedAt, ended, log, cleared);
      if (bridged) await this.talk(identity, ended, log, bridged);
    } finally {
      this.deps.metrics?.activeCalls.dec();
    }
  }

  /** Decides and bridges; answers what the call keeps while it talks, or undefined when it is already finished. */
  private async routeCall(leg: CallLeg, info: CallInfo, identity: CallIdentity, startedAt: Date, ended: Promise<LegEnd>, log: CallLogger, cleared?: OutboundClearance): Promise<BridgedCall | undefined> {
    const { callId } = identity;
    let decided: Promise<void> | undefined;
    try {
      let decision: Decision;
      try {
        decision = await this.deps.router.decide(callId, info, startedAt, cleared);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'routing decision failed');
        await this.safely(log, 'play error prompt', () => leg.playAndHangup(PROMPTS.error, REJECT_CAUSE.internal_error));
        await this.finish(identity, ended, log, { outcome: 'failed', endReason: 'internal_error', rejectReason: 'internal_error' });
        return;
      }
      this.deps.metrics?.decisionSeconds.observe(decision.trace.decisionUs / 1e6);
      // Not awaited before acting on the decision: the entry is on Redis's socket before the switch hears of the
      // bridge (the decision itself was a Redis round trip a moment ago, so the connection is up), and the call
      // does not wait a second round trip. The recorder applies entries in any order; the call awaits it before it is done.
      decided = this.journal(log, decisionEntry(identity, info, decision));
      this.deps.events?.emit({
        type: 'call.decided',
        callId,
        at: this.clock().toISOString(),
        campaignId: decision.campaign?.id,
        sellerAccountId: decision.campaign?.sellerAccountId,
        outcome: decision.outcome,
        rejectReason: decision.outcome === 'reject' ? decision.reason : undefined,
        screeningReasons: decision.trace.screening?.reasons ?? [],
        winnerTargetId: decision.trace.winnerTargetId,
        winnerBuyerId: decision.outcome === 'route' ? decision.winner.bid.buyerAccountId : undefined,
        priceCents: decision.trace.priceCents,
        decisionUs: decision.trace.decisionUs,
      });

      if (decision.outcome === 'reject') {
        log.info({ reason: decision.reason, detail: decision.trace.rejectDetail }, 'call rejected');
        if (!leg.ended) await this.safely(log, 'play reject prompt', () => leg.playAndHangup(decision.prompt, REJECT_CAUSE[decision.reason]));
        await this.finish(identity, ended, log, { outcome: 'rejected', endReason: `rejected:${decision.reason}`, rejectReason: decision.reason, sellerAccountId: decision.campaign?.sellerAccountId });
        return;
      }
      return await this.bridgeDownTheList(leg, info, identity, decision, ended, log);
    } finally {
      await decided;
    }
  }

  /** A bridged call until it ends: its slot given back and its end recorded. */
  private async talk(identity: CallIdentity, ended: Promise<LegEnd>, log: CallLogger, call: BridgedCall): Promise<void> {
    const end = await ended;
    await this.deps.caps.endCall(identity.callId, call.counters).catch((err: Error) => log.error({ err: err.message }, 'failed to release concurrency slot; its lease will expire'));
    await this.finish(identity, Promise.resolve(end), log, {
      outcome: 'bridged',
      endReason: end.hungUpBy === 'buyer' ? 'buyer_hangup' : end.hungUpBy === 'caller' ? 'caller_hangup' : 'hangup',
      winner: call.winner,
      sellerAccountId: call.sellerAccountId,
    });
  }

  private async bridgeDownTheList(
    leg: CallLeg,
    info: CallInfo,
    identity: CallIdentity,
    decision: Extract<Decision, { outcome: 'route' }>,
    ended: Promise<LegEnd>,
    log: CallLogger,
  ): Promise<BridgedCall | undefined> {
    const ranked = [decision.winner.bid, ...decision.fallbacks];
    const sellerAccountId = decision.campaign.sellerAccountId;
    let current: ReservedBid | undefined = decision.winner;
    let attemptNo = 0;
    while (current) {
      if (leg.ended) {
        // The caller left during the decision or between attempts: give the slot back at once.
        await this.release(log, identity.callId, current);
        await this.finish(identity, ended, log, { outcome: 'abandoned', endReason: 'caller_gone', rejectReason: 'caller_gone', sellerAccountId });
        return undefined;
      }
      attemptNo += 1;
      const bid = current.bid;
      const attemptStartedAt = this.clock();
      let outcome: BridgeOutcome;
      try {
        outcome = await leg.bridge({ uri: bid.destination }, { answerTimeoutSec: bid.answerTimeoutSec, callerIdNumber: info.ani, tags: { callx_call_id: identity.callId, callx_target_id: bid.targetId } });
      } catch (err) {
        outcome = { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: (err as Error).message };
      }
      this.deps.metrics?.bridgeAttempts.inc({ status: outcome.status });
      await this.recordAttempt(identity, log, sellerAccountId, { attemptNo, bid, status: outcome.status, cause: 'cause' in outcome ? outcome.cause : undefined, startedAt: attemptStartedAt });

      if (outcome.status === 'bridged') {
        log.info({ targetId: bid.targetId, attemptNo, priceCents: bid.priceCents }, 'call bridged');
        this.deps.events?.emit({ type: 'call.bridged', callId: identity.callId, at: outcome.answeredAt.toISOString(), targetId: bid.targetId, buyerAccountId: bid.buyerAccountId, priceCents: bid.priceCents, sellerAccountId });
        return { winner: bid, counters: current.counters, hold: current.hold, sellerAccountId }; // the bid alone, not the ranking it came from
      }

      await this.release(log, identity.callId, current);
      if (outcome.status === 'caller_gone') {
        await this.finish(identity, ended, log, { outcome: 'abandoned', endReason: 'caller_gone', rejectReason: 'caller_gone', sellerAccountId });
        return undefined;
      }
      log.info({ targetId: bid.targetId, status: outcome.status, cause: outcome.cause }, 'bridge attempt failed; trying the next buyer');
      const skipped: Array<{ bid: ReservedBid['bid'] } & SkippedBid> = [];
      current = await this.deps.router.reserveNext(identity.callId, ranked, ranked.indexOf(bid) + 1, this.clock(), decision.trace, (b, skip) => skipped.push({ bid: b, ...skip }));
      // Buyers passed over for a full cap or short funds are not rung, but the call's record shows them, in order.
      for (const s of skipped) {
        attemptNo += 1;
        await this.recordAttempt(identity, log, sellerAccountId, { attemptNo, bid: s.bid, status: s.status, cause: s.cause, startedAt: this.clock() });
      }
    }
    // Nobody took the call: tell the caller, end it with a reason.
    if (!leg.ended) await this.safely(log, 'play no-buyer prompt', () => leg.playAndHangup(decision.campaign.noBuyerPrompt, 'NORMAL_TEMPORARY_FAILURE'));
    await this.finish(identity, ended, log, { outcome: 'no_buyer_answered', endReason: 'all_buyers_failed', rejectReason: 'no_eligible_buyer', sellerAccountId });
    return undefined;
  }

  private async finish(
    identity: CallIdentity,
    ended: Promise<LegEnd>,
    log: CallLogger,
    how: { outcome: string; endReason: string; rejectReason?: string; sellerAccountId?: string; winner?: Winner },
  ): Promise<void> {
    const end = await ended;
    const started = new Date(identity.startedAt).getTime();
    const durationSec = Math.max(0, Math.round((end.endedAt.getTime() - started) / 1000));
    const billableSec = end.bridgedAt ? Math.max(0, Math.round((end.endedAt.getTime() - end.bridgedAt.getTime()) / 1000)) : 0;
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
    });
    await this.journal(log, {
      ...identity,
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
    });
  }

  /** One attempt (rung or passed over), shown live and journaled; it ends now. */
  private async recordAttempt(
    identity: CallIdentity,
    log: CallLogger,
    sellerAccountId: string,
    a: { attemptNo: number; bid: ReservedBid['bid']; status: string; cause?: string; startedAt: Date },
  ): Promise<void> {
    const endedAt = this.clock().toISOString();
    const { bid } = a;
    this.deps.events?.emit({ type: 'call.attempt', callId: identity.callId, at: endedAt, attemptNo: a.attemptNo, targetId: bid.targetId, buyerAccountId: bid.buyerAccountId, status: a.status, cause: a.cause, sellerAccountId });
    await this.journal(log, {
      ...identity,
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
    });
  }

  private async release(log: CallLogger, callId: string, reserved: ReservedBid): Promise<void> {
    await this.deps.caps.release(callId, reserved.counters, reserved.hold).catch((err: Error) => log.error({ err: err.message, targetId: reserved.bid.targetId }, 'failed to release cap reservation and fund hold; their leases will expire'));
  }

  /** The journal is the record of truth until the recorder copies it; a failed append is retried, then logged loudly. */
  private async journal(log: CallLogger, entry: JournalEntry): Promise<void> {
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

  private async safely(log: CallLogger, what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      log.warn({ err: (err as Error).message }, `${what} failed`);
    }
  }
}

function decisionEntry(identity: CallIdentity, info: CallInfo, d: Decision): JournalEntry {
  const screening = d.trace.screening;
  return {
    ...identity,
    type: 'decided',
    campaignId: d.campaign?.id,
    sellerAccountId: d.campaign?.sellerAccountId,
    attestation: d.trace.attestation ? d.trace.attestation.level : info.attestation, // the level judged, not a header we ignored
    zip: info.zip,
    leadId: info.leadId,
    outcome: d.outcome === 'route' ? 'routed' : 'rejected',
    rejectReason: d.outcome === 'reject' ? d.reason : undefined,
    winnerTargetId: d.outcome === 'route' ? d.winner.bid.targetId : undefined,
    winnerBuyerId: d.outcome === 'route' ? d.winner.bid.buyerAccountId : undefined,
    priceCents: d.outcome === 'route' ? d.winner.bid.priceCents : undefined,
    decidedAt: d.trace.decidedAt,
    trace: d.trace,
    audit: screening ? { decision: screening.pass ? 'pass' : 'block', reasons: screening.checks, checkedAt: d.trace.decidedAt } : undefined,
  };
}
