import { randomUUID } from 'node:crypto';
import { lazyChild, type CallLogger, type Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { CallInfo, CallLeg, HangupCause, LegEnd } from '../switch/port';
import type { CapLedger } from '../cache/cap-ledger';
import type { CallIdentity, CallJournal } from './call-journal';
import { decisionEntry } from './decision-entry';
import type { Decision, Router } from './router';
import { PROMPTS } from './router';
import type { RejectReason } from './trace';
import type { CallEventBus } from './call-events';
import { LateReleases } from './late-releases';
import type { LiveCall, LiveCallsRegistry } from '../cache/live-calls-registry';
import { CallEnding, type EndHow } from './call-ending';
import { CallRegistration } from './call-registration';
import { closeLostCall, endReasonOf, finishAdoptedCall, type AdoptionDeps, type FundHoldRelease } from './adopted-call';
import { handOver, type HandOverDeps, type KnownCallLookup } from './hand-over';
import { LEFT, RunningCalls, type Left } from './running-calls';
import { BridgeLadder, safely, type BridgedCall } from './bridge-ladder';
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
  /** this node's live-call registry: what another node needs to finish our calls if we die or stop */
  registry?: LiveCallsRegistry;
  /** fund holds given back when a lost node's call that never bridged is closed here (the funds module's release) */
  fundHolds?: FundHoldRelease;
  /** what the database knows of a call handed over with our call id but found in no registry */
  knownCall?: KnownCallLookup;
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
  private readonly calls = new RunningCalls();
  private readonly ending: CallEnding;
  /** releases Redis refused, retried in the background */
  private readonly late: LateReleases;
  private readonly ladder: BridgeLadder;
  /** calls in route() now: the active-calls gauge reads it at each scrape (an inc and a dec per call cost more) */
  private routing = 0;

  constructor(private readonly deps: CallFlowDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.newCallId = deps.newCallId ?? randomUUID;
    this.ending = new CallEnding({ ...deps, clock: this.clock });
    this.late = new LateReleases(deps.caps);
    deps.metrics?.onActiveCalls(() => this.routing);
    this.ladder = new BridgeLadder({
      ...deps,
      ending: this.ending,
      late: this.late,
      clock: this.clock,
      leaving: () => this.calls.leaving,
      finish: (identity, ended, log, how, reg) => this.finish(identity, ended, log, how, reg),
    });
  }

  /** The switch adapters' InboundCallHandler. */
  readonly handle = (leg: CallLeg, info: CallInfo): void => {
    void this.run(leg, info);
  };

  /** Calls still being set up or bridged on this node. */
  get active(): number {
    return this.calls.size;
  }

  /** Is this call's flow running on this node (routed or adopted here)? */
  isRunning(callId: string): boolean {
    return this.calls.has(callId);
  }

  /** Waits for calls in progress (graceful shutdown), then stops retrying releases (leases and billing take over). */
  async settle(): Promise<void> {
    await this.calls.settle();
    this.late.stop();
  }

  /**
   * Graceful stop, once the switches are stopped: the calls still running here are let go without an end in the
   * record (a stopped adapter leaves bridged calls on the switch and never reports their end). Their registry
   * entries, slots and holds stay for whichever node adopts them. Answers how many were let go.
   */
  letGo(): number {
    return this.calls.letGo();
  }

  /**
   * A call handed over by a switch. An inbound call that already carries our call id is never auctioned again:
   * it goes to the hand-over step (adopted if its record is open, else left alone).
   */
  async run(leg: CallLeg, info: CallInfo): Promise<void> {
    if (info.direction === 'inbound' && info.callId) {
      const callId = info.callId;
      const log = lazyChild(this.deps.logger, { callId, switchCallId: info.switchCallId, switch: info.switchName });
      if (this.calls.has(callId)) {
        log.warn('a switch handed over a call already running on this node; left alone');
        return;
      }
      await this.calls.track(callId, leg, (ended) => handOver(this.handOverDeps(), leg, info, ended, log, (call, e) => this.finishAdopted(call, e, log), () => this.route(leg, info, callId, ended)));
      return;
    }
    const callId = info.callId ?? this.newCallId();
    await this.calls.track(callId, leg, (ended) => this.route(leg, info, callId, ended));
  }

  /** Takes over a bridged call set up elsewhere (found by the sweeper): finishes it as a bridged call. */
  adopt(leg: CallLeg, call: LiveCall): Promise<void> {
    const log = lazyChild(this.deps.logger, { callId: call.callId, switchCallId: call.switchCallId, switch: call.switchName, adopted: true });
    return this.calls.track(call.callId, leg, (ended) => this.finishAdopted(call, ended, log));
  }

  /** Closes a call of a lost node that has no bridged leg to adopt (gone from the switch, or sent to its fallback). */
  async closeLost(call: LiveCall, how: 'gone' | 'released'): Promise<void> {
    const log = lazyChild(this.deps.logger, { callId: call.callId, switchCallId: call.switchCallId, switch: call.switchName });
    await closeLostCall(this.adoptionDeps(), call, how, log);
  }

  private finishAdopted(call: LiveCall, ended: Promise<LegEnd | Left>, log: CallLogger): Promise<void> {
    log.info({ state: call.state, bridgedAt: call.bridgedAt }, 'adopted a call set up by another node');
    return finishAdoptedCall(this.adoptionDeps(), call, ended, log);
  }

  private adoptionDeps(): AdoptionDeps {
    return { caps: this.deps.caps, ending: this.ending, registry: this.deps.registry, fundHolds: this.deps.fundHolds, clock: this.clock };
  }

  private handOverDeps(): HandOverDeps {
    return { registry: this.deps.registry, knownCall: this.deps.knownCall, adoption: this.adoptionDeps() };
  }

  private async route(leg: CallLeg, answered: CallInfo, callId: string, ended: Promise<LegEnd | Left>): Promise<void> {
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
    const reg = this.deps.registry ? new CallRegistration(this.deps.registry, identity) : undefined;
    this.routing++;
    this.deps.events?.emit({ type: 'call.started', callId, at: identity.startedAt, direction: info.direction, ani: info.ani, dnis: info.dnis, switchName: info.switchName });
    try {
      // The decision (ranking, trace) lives in routeCall's frame only: once the call is bridged, what it needs
      // while it talks is a few fields. Held until the call ended, the decision was most of what a call in
      // progress kept alive (with 50 buyers, ~16 of ~26 KB), all of it moved to the old generation.
      const bridged = await this.routeCall(leg, info, identity, startedAt, ended, log, reg, cleared);
      if (bridged) await this.talk(identity, ended, log, bridged, reg);
    } finally {
      this.routing--;
    }
  }

  /** Decides and bridges; answers what the call keeps while it talks, or undefined when it is already finished. */
  private async routeCall(leg: CallLeg, info: CallInfo, identity: CallIdentity, startedAt: Date, ended: Promise<LegEnd | Left>, log: CallLogger, reg?: CallRegistration, cleared?: OutboundClearance): Promise<BridgedCall | undefined> {
    const { callId } = identity;
    let decided: Promise<void> | undefined;
    try {
      let decision: Decision;
      try {
        decision = await this.deps.router.decide(callId, info, startedAt, cleared);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'routing decision failed');
        await safely(log, 'play error prompt', () => leg.playAndHangup(PROMPTS.error, REJECT_CAUSE.internal_error));
        await this.finish(identity, ended, log, { outcome: 'failed', endReason: 'internal_error', rejectReason: 'internal_error' });
        return;
      }
      this.deps.metrics?.decisionSeconds.observe(decision.trace.decisionUs / 1e6);
      // Not awaited before acting on the decision: the entry is on Redis's socket before the switch hears of the
      // bridge (the decision itself was a Redis round trip a moment ago, so the connection is up), and the call
      // does not wait a second round trip. The recorder applies entries in any order; the call awaits it before it is done.
      decided = this.ending.append(log, decisionEntry(identity, info, decision));
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
        if (!leg.ended) await safely(log, 'play reject prompt', () => leg.playAndHangup(decision.prompt, REJECT_CAUSE[decision.reason]));
        await this.finish(identity, ended, log, { outcome: 'rejected', endReason: `rejected:${decision.reason}`, rejectReason: decision.reason, sellerAccountId: decision.campaign?.sellerAccountId });
        return;
      }
      reg?.reserved(decision.campaign, decision.winner.bid, decision.winner.counters);
      return await this.ladder.run(leg, info, identity, decision, ended, log, reg);
    } finally {
      await decided;
    }
  }

  /** A bridged call until it ends: its slot given back and its end recorded. */
  private async talk(identity: CallIdentity, ended: Promise<LegEnd | Left>, log: CallLogger, call: BridgedCall, reg?: CallRegistration): Promise<void> {
    const end = await ended;
    if (end === LEFT) {
      // The node stops and the switch keeps the call: its entry, slot and hold stay for the node that adopts it.
      log.info('bridged call left on the switch at stop; another node (or this one restarted) adopts it');
      return;
    }
    // The slot's release, the end's entry and the registry removal are queued in this turn, so they leave in one
    // pipeline (the journal's batch), in that order: one round trip for the end instead of three.
    const released = this.deps.caps.endCall(identity.callId, call.counters).catch((err: Error) => {
      log.error({ err: err.message }, 'failed to release concurrency slot; retrying in the background');
      this.late.schedule(log, identity.callId, call.counters); // the hold stays: billing settles it with the charge
    });
    await Promise.all([released, this.finish(identity, Promise.resolve(end), log, { outcome: 'bridged', endReason: endReasonOf(end), winner: call.winner, sellerAccountId: call.sellerAccountId }, reg)]);
  }

  /**
   * Records the end of a call that was not bridged, once the leg reports it. Let go at stop before that (a prompt
   * still playing, the switch's fallback taking the caller), it ends on record at the stop: no other node would
   * close it, as it holds nothing to adopt.
   */
  private async finish(identity: CallIdentity, ended: Promise<LegEnd | Left>, log: CallLogger, how: EndHow, reg?: CallRegistration): Promise<void> {
    const end = await ended;
    const recorded = this.ending.recordEnd(identity, end === LEFT ? { endedAt: this.clock(), cause: 'NORMAL_TEMPORARY_FAILURE', hungUpBy: 'system' } : end, log, how);
    // Queued right behind the end's entry, in the same batch: Redis applies it after the entry.
    reg?.done();
    await recorded;
  }
}
