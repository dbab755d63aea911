import type { CallLogger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { BridgeOutcome, CallInfo, CallLeg, LegEnd } from '../switch/port';
import type { CapLedger } from '../cache/cap-ledger';
import type { CapCounter } from '../domain/caps';
import type { FundHold } from '../cache/fund-holds';
import type { RankedBid } from '../domain/auction';
import { bidExpired } from '../domain/rtb';
import type { CallIdentity } from './call-journal';
import type { Decision, ReservedBid, Router, SkippedBid } from './router';
import type { CallEventBus } from './call-events';
import type { LateReleases } from './late-releases';
import type { CallEnding, EndHow, Winner } from './call-ending';
import type { CallRegistration } from './call-registration';
import type { Left } from './running-calls';

/**
 * What a bridged call keeps while it talks: who pays what, the concurrency slot to give back, and its buyer's fund
 * hold (left for billing to settle when it charges the call; given back by hand only if the call is never billed).
 */
export interface BridgedCall {
  winner: Winner;
  counters: CapCounter[];
  hold: FundHold;
  sellerAccountId: string;
}

export interface BridgeLadderDeps {
  router: Router;
  caps: CapLedger;
  metrics?: Metrics;
  events?: CallEventBus;
  ending: CallEnding;
  late: LateReleases;
  clock: () => Date;
  /** true once the node lets go of its calls (stop): the ladder stops where it is, the call's entry stays */
  leaving: () => boolean;
  /** records the end of a call that was not bridged (CallFlow's) */
  finish: (identity: CallIdentity, ended: Promise<LegEnd | Left>, log: CallLogger, how: EndHow, reg?: CallRegistration) => Promise<void>;
}

/**
 * Step 5 of a call: down the ranked list, one buyer at a time, until one answers. Each attempt is journaled, a failed
 * buyer's reservation is given back and the next one reserved; buyers passed over for a full cap or short funds are
 * recorded in order. Answers what the bridged call keeps while it talks, or undefined when the call is finished
 * (abandoned, refused by the switch, or no buyer took it: each ended on record).
 */
export class BridgeLadder {
  constructor(private readonly deps: BridgeLadderDeps) {}

  async run(
    leg: CallLeg,
    info: CallInfo,
    identity: CallIdentity,
    decision: Extract<Decision, { outcome: 'route' }>,
    ended: Promise<LegEnd | Left>,
    log: CallLogger,
    reg?: CallRegistration,
  ): Promise<BridgedCall | undefined> {
    const unreleased: FundHold[] = [];
    const bridged = await this.inTurn(leg, info, identity, decision, ended, log, unreleased, reg);
    // Holds whose release Redis refused are retried only now the call is placed or given up: a later target of the
    // same buyer takes over the same hold (one per call and buyer), and the bridged call's buyer must keep it.
    for (const hold of unreleased) if (hold.buyerId !== bridged?.hold.buyerId) this.deps.late.schedule(log, identity.callId, [], hold);
    return bridged;
  }

  private async inTurn(
    leg: CallLeg,
    info: CallInfo,
    identity: CallIdentity,
    decision: Extract<Decision, { outcome: 'route' }>,
    ended: Promise<LegEnd | Left>,
    log: CallLogger,
    unreleased: FundHold[],
    reg?: CallRegistration,
  ): Promise<BridgedCall | undefined> {
    let ranked: RankedBid[] | undefined; // the whole ranking, made only for a failover (most calls bridge at once)
    const sellerAccountId = decision.campaign.sellerAccountId;
    let current: ReservedBid | undefined = decision.winner;
    let attemptNo = 0;
    while (current) {
      if (this.deps.leaving()) return undefined; // the node stops: the call's entry stays for its adopter
      if (leg.ended) {
        // The caller left during the decision or between attempts: give the slot back at once.
        await this.release(log, identity.callId, current, unreleased, reg);
        await this.deps.finish(identity, ended, log, { outcome: 'abandoned', endReason: 'caller_gone', rejectReason: 'caller_gone', sellerAccountId }, reg);
        return undefined;
      }
      attemptNo += 1;
      const bid = current.bid;
      const attemptStartedAt = this.deps.clock();
      if (bidExpired(bid, attemptStartedAt.getTime())) {
        // A real-time bid the buyer said stands for less time than the call took to reach it (failover after a
        // long ring): the buyer no longer honours that price, so it is not dialled; the attempt says why.
        log.info({ targetId: bid.targetId, expiredAt: new Date(bid.expiresAtMs!).toISOString() }, 'the buyer\'s real-time bid expired before it was dialled; trying the next buyer');
        await this.deps.ending.recordAttempt(identity, log, sellerAccountId, { attemptNo, bid, status: 'bid_expired', cause: 'bid_expired', startedAt: attemptStartedAt });
        await this.release(log, identity.callId, current, unreleased, reg);
        ({ current, attemptNo, ranked } = await this.next(identity, log, sellerAccountId, decision, ranked, bid, attemptNo, reg));
        continue;
      }
      let outcome: BridgeOutcome;
      try {
        outcome = await leg.bridge({ uri: bid.destination }, { answerTimeoutSec: bid.answerTimeoutSec, callerIdNumber: info.ani, tags: { callx_call_id: identity.callId, callx_target_id: bid.targetId } });
      } catch (err) {
        outcome = { status: 'failed', cause: 'NORMAL_TEMPORARY_FAILURE', detail: (err as Error).message };
      }
      this.deps.metrics?.bridgeAttempts.inc({ status: outcome.status });
      const attempted = this.deps.ending.recordAttempt(identity, log, sellerAccountId, { attemptNo, bid, status: outcome.status, cause: 'cause' in outcome ? outcome.cause : undefined, startedAt: attemptStartedAt });

      if (outcome.status === 'bridged') {
        // Queued behind the attempt's entry, in the same batch (one round trip): Redis applies it after the entry.
        reg?.bridged(outcome.answeredAt);
        await attempted;
        log.debug({ targetId: bid.targetId, attemptNo, priceCents: bid.priceCents }, 'call bridged'); // routine: the record has it
        this.deps.events?.emit({ type: 'call.bridged', callId: identity.callId, at: outcome.answeredAt.toISOString(), targetId: bid.targetId, buyerAccountId: bid.buyerAccountId, priceCents: bid.priceCents, sellerAccountId });
        return { winner: bid, counters: current.counters, hold: current.hold, sellerAccountId }; // the bid alone, not the ranking it came from
      }

      await attempted;
      await this.release(log, identity.callId, current, unreleased, reg);
      if (outcome.status === 'caller_gone') {
        await this.deps.finish(identity, ended, log, { outcome: 'abandoned', endReason: 'caller_gone', rejectReason: 'caller_gone', sellerAccountId }, reg);
        return undefined;
      }
      if (outcome.status === 'switch_fault') {
        // The switch refused the buyer leg itself (its session limits): not this buyer's failure, and every next
        // buyer would hit the same wall. The attempt is recorded as switch_fault; the caller gets the no-buyer treatment.
        log.warn({ targetId: bid.targetId, cause: outcome.cause, detail: outcome.detail }, 'the switch refused the buyer leg; not trying further buyers');
        if (!leg.ended) await safely(log, 'play no-buyer prompt', () => leg.playAndHangup(decision.campaign.noBuyerPrompt, 'NORMAL_TEMPORARY_FAILURE'));
        await this.deps.finish(identity, ended, log, { outcome: 'no_buyer_answered', endReason: 'switch_fault', rejectReason: 'no_eligible_buyer', sellerAccountId }, reg);
        return undefined;
      }
      log.info({ targetId: bid.targetId, status: outcome.status, cause: outcome.cause }, 'bridge attempt failed; trying the next buyer');
      ({ current, attemptNo, ranked } = await this.next(identity, log, sellerAccountId, decision, ranked, bid, attemptNo, reg));
    }
    // Nobody took the call: tell the caller, end it with a reason.
    if (!leg.ended) await safely(log, 'play no-buyer prompt', () => leg.playAndHangup(decision.campaign.noBuyerPrompt, 'NORMAL_TEMPORARY_FAILURE'));
    await this.deps.finish(identity, ended, log, { outcome: 'no_buyer_answered', endReason: 'all_buyers_failed', rejectReason: 'no_eligible_buyer', sellerAccountId }, reg);
    return undefined;
  }

  /**
   * Reserves the first bid ranked after `after` that has room and funds. Buyers passed over for a full cap or short
   * funds are not rung, but the call's record shows them, in order, as attempts.
   */
  private async next(
    identity: CallIdentity,
    log: CallLogger,
    sellerAccountId: string,
    decision: Extract<Decision, { outcome: 'route' }>,
    ranked: RankedBid[] | undefined,
    after: RankedBid,
    attemptNo: number,
    reg?: CallRegistration,
  ): Promise<{ current: ReservedBid | undefined; attemptNo: number; ranked: RankedBid[] }> {
    const skipped: Array<{ bid: ReservedBid['bid'] } & SkippedBid> = [];
    ranked ??= [decision.winner.bid, ...decision.fallbacks]; // the whole ranking, made only for a failover
    const current = await this.deps.router.reserveNext(identity.callId, ranked, ranked.indexOf(after) + 1, this.deps.clock(), decision.trace, (b, skip) => skipped.push({ bid: b, ...skip }));
    if (current) reg?.reserved(decision.campaign, current.bid, current.counters);
    for (const s of skipped) {
      attemptNo += 1;
      await this.deps.ending.recordAttempt(identity, log, sellerAccountId, { attemptNo, bid: s.bid, status: s.status, cause: s.cause, startedAt: this.deps.clock() });
    }
    return { current, attemptNo, ranked };
  }

  /**
   * Gives back a reservation; what Redis refused is retried: the slots at once, the hold once the call is placed
   * (`unreleased`). Given back, it is cleared from the call's registry entry, so an adopter does not give it back twice.
   */
  private async release(log: CallLogger, callId: string, reserved: ReservedBid, unreleased: FundHold[], reg?: CallRegistration): Promise<void> {
    try {
      await this.deps.caps.release(callId, reserved.counters, reserved.hold);
      reg?.released();
    } catch (err) {
      log.error({ err: (err as Error).message, targetId: reserved.bid.targetId }, 'failed to release cap reservation and fund hold; retrying in the background');
      this.deps.late.schedule(log, callId, reserved.counters);
      unreleased.push(reserved.hold);
    }
  }
}

/** Runs a prompt or hangup whose failure must not stop the call's record: logged, not thrown. */
export async function safely(log: CallLogger, what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log.warn({ err: (err as Error).message }, `${what} failed`);
  }
}
