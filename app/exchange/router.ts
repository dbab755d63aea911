import type { Logger } from '../observability/logger';
import type { CallInfo } from '../switch/port';
import type { Campaign } from '../domain/model';
import type { CapCounter } from '../domain/caps';
import { parseCaller, type CallerParse } from '../domain/phone';
import { locateConsumer, type ConsumerLocation } from '../domain/geo';
import { checkCallingHours } from '../domain/calling-hours';
import { screenCall, type ScreenResult } from '../domain/screening';
import { judgeTarget } from '../domain/discovery';
import { runAuction, type Bid, type RankedBid } from '../domain/auction';
import { capCounters } from '../domain/caps';
import { ComplianceLookups } from '../cache/compliance-lookups';
import { CapLedger } from '../cache/cap-ledger';
import type { SnapshotSource } from './snapshot-source';
import { collectBids, type Bidder } from './bidders';
import type { BuyerTraceEntry, DecisionTrace, RejectReason } from './trace';

/** A ranked bid that holds its cap reservation. */
export interface ReservedBid {
  bid: RankedBid;
  counters: CapCounter[];
}

export type Decision =
  | { outcome: 'reject'; reason: RejectReason; prompt: string; campaign?: Campaign; trace: DecisionTrace }
  | {
      outcome: 'route';
      campaign: Campaign;
      /** the first ranked bid whose caps could be reserved */
      winner: ReservedBid;
      /** the rest of the ranking, in failover order; reserved only when tried */
      fallbacks: RankedBid[];
      trace: DecisionTrace;
    };

/** A call or request that passed screening (steps 1-2), before discovery. */
export interface ScreenedCall {
  outcome: 'pass';
  campaign: Campaign;
  trace: DecisionTrace;
}

interface Screened {
  campaign: Campaign;
  caller: Extract<CallerParse, { ok: true }>;
  location: ConsumerLocation;
  trace: DecisionTrace;
  started: bigint;
}

export interface RouterDeps {
  snapshots: SnapshotSource;
  compliance: ComplianceLookups;
  caps: CapLedger;
  /** Real-time bidders, in addition to the standing bids of the campaign's buyer targets. */
  bidders?: readonly Bidder[];
  random?: () => number;
  logger: Logger;
}

/** Prompt names the adapters map to sound files. */
export const PROMPTS = { unknownNumber: 'number_not_in_service', screened: 'call_cannot_be_completed', error: 'technical_difficulties' };

/**
 * Steps 1-4 of a call: campaign, screening, discovery, auction (with the winner's caps reserved).
 * Reads only the in-memory snapshot and Redis: two Redis round trips (compliance lookups, cap reservation).
 */
export class Router {
  private readonly random: () => number;
  constructor(private readonly deps: RouterDeps) {
    this.random = deps.random ?? Math.random;
  }

  /**
   * Steps 1-2 only: the campaign and the compliance screening. Used before placing a call to a consumer,
   * so a blocked request never reaches the switch.
   */
  async screenRequest(callId: string, info: CallInfo, now: Date): Promise<Decision | ScreenedCall> {
    const r = await this.campaignAndScreening(callId, info, now);
    if ('outcome' in r) return r;
    r.trace.decisionUs = Number((process.hrtime.bigint() - r.started) / 1000n);
    return { outcome: 'pass', campaign: r.campaign, trace: r.trace };
  }

  async decide(callId: string, info: CallInfo, now: Date): Promise<Decision> {
    const screened = await this.campaignAndScreening(callId, info, now);
    if ('outcome' in screened) return screened;
    const { campaign, caller, location, trace, started } = screened;
    const snapshot = this.deps.snapshots.current();
    const e164 = caller.e164;
    const finish = <D extends Decision>(d: D): D => {
      d.trace.decisionUs = Number((process.hrtime.bigint() - started) / 1000n);
      return d;
    };
    const reject = (reason: RejectReason, prompt: string, detail?: string): Decision => {
      trace.outcome = 'reject';
      trace.rejectReason = reason;
      if (detail) trace.rejectDetail = detail;
      return finish({ outcome: 'reject', reason, prompt, campaign, trace });
    };

    // 3. Discovery (standing bids), then real-time bids under the campaign's deadline
    const bids: Bid[] = [];
    const geo = { states: location.states, areaCode: caller.areaCode, zip: info.zip };
    for (const target of snapshot.targetsByCampaign.get(campaign.id) ?? []) {
      const verdict = judgeTarget(target, snapshot.accounts.get(target.buyerAccountId), geo, campaign.floorCents, now);
      if (!verdict.eligible) {
        trace.buyers.push({ targetId: target.id, buyerAccountId: target.buyerAccountId, bidCents: target.bidCents, source: 'standing', status: 'excluded', reason: verdict.reason, detail: verdict.detail });
        continue;
      }
      bids.push({
        targetId: target.id,
        buyerAccountId: target.buyerAccountId,
        bidCents: target.bidCents,
        qualityScore: target.qualityScore,
        priority: target.priority,
        weight: target.weight,
        destination: target.destination!,
        answerTimeoutSec: target.answerTimeoutSec,
        source: 'standing',
      });
    }
    if (this.deps.bidders?.length) {
      const collected = await collectBids(this.deps.bidders, { callId, campaign, callerE164: e164, location, areaCode: caller.areaCode, zip: info.zip, now }, campaign.bidDeadlineMs);
      for (const b of collected.bids) {
        const problem = invalidBid(b);
        if (problem) trace.buyers.push({ targetId: b.targetId, buyerAccountId: b.buyerAccountId, bidCents: b.bidCents, source: b.source, status: 'excluded', reason: 'bid_error', detail: problem });
        else bids.push(b);
      }
      for (const name of collected.late) trace.buyers.push({ targetId: '', buyerAccountId: '', bidCents: 0, source: name, status: 'excluded', reason: 'bid_timeout', detail: `no answer within ${campaign.bidDeadlineMs} ms` });
      for (const f of collected.failed) trace.buyers.push({ targetId: '', buyerAccountId: '', bidCents: 0, source: f.bidder, status: 'excluded', reason: 'bid_error', detail: f.error });
    }

    // 4. Auction, then reserve caps down the ranking until one target has room
    const ranked = runAuction({ bids, routing: campaign.routing, floorCents: campaign.floorCents, random: this.random });
    const entries = new Map<string, BuyerTraceEntry>();
    for (const r of ranked) {
      const entry: BuyerTraceEntry = { targetId: r.targetId, buyerAccountId: r.buyerAccountId, bidCents: r.bidCents, source: r.source, status: 'lost', reason: 'outranked', rank: r.rank, score: r.score, priceCents: r.priceCents };
      entries.set(r.targetId, entry);
      trace.buyers.push(entry);
    }
    const reserved = await this.reserveNext(callId, ranked, 0, now, trace);
    if (!reserved) return reject('no_eligible_buyer', campaign.noBuyerPrompt, `${ranked.length} ranked, ${trace.buyers.length} considered`);
    const winnerEntry = entries.get(reserved.bid.targetId)!;
    winnerEntry.status = 'won';
    delete winnerEntry.reason;
    trace.outcome = 'route';
    trace.winnerTargetId = reserved.bid.targetId;
    trace.priceCents = reserved.bid.priceCents;
    const fallbacks = ranked.slice(ranked.indexOf(reserved.bid) + 1);
    return finish({ outcome: 'route', campaign, winner: reserved, fallbacks, trace });
  }

  /**
   * Reserves the caps of the first bid from `from` on that has room; bids skipped for a full cap are
   * marked in the trace. Also used by failover to move down the ranking.
   */
  async reserveNext(callId: string, ranked: RankedBid[], from: number, now: Date, trace: DecisionTrace): Promise<ReservedBid | undefined> {
    const snapshot = this.deps.snapshots.current();
    for (let i = from; i < ranked.length; i++) {
      const bid = ranked[i]!;
      const target = snapshot.targets.get(bid.targetId);
      const counters = target ? capCounters(target, now) : [];
      const r = await this.deps.caps.reserve(callId, counters, now.getTime());
      if (r.ok) return { bid, counters };
      const entry = trace.buyers.find((b) => b.targetId === bid.targetId && b.rank === bid.rank);
      if (entry) {
        entry.status = 'cap_reached';
        entry.reason = `cap_${r.full.kind}`;
        entry.detail = `${r.full.kind} cap ${r.full.limit} reached`;
      }
    }
    return undefined;
  }

  private async campaignAndScreening(callId: string, info: CallInfo, now: Date): Promise<Decision | Screened> {
    const started = process.hrtime.bigint();
    const snapshot = this.deps.snapshots.current();
    const caller = parseCaller(info.ani);
    const trace: DecisionTrace = {
      callId,
      decidedAt: now.toISOString(),
      direction: info.direction,
      dnis: info.dnis,
      ani: info.ani,
      caller: caller.ok ? { ok: true, e164: caller.e164 } : { ok: false, reason: caller.reason, detail: caller.detail },
      buyers: [],
      outcome: 'reject',
      decisionUs: 0,
    };
    const reject = (reason: RejectReason, prompt: string, detail?: string, campaign?: Campaign): Decision => {
      trace.outcome = 'reject';
      trace.rejectReason = reason;
      if (detail) trace.rejectDetail = detail;
      trace.decisionUs = Number((process.hrtime.bigint() - started) / 1000n);
      return { outcome: 'reject', reason, prompt, campaign, trace };
    };

    // 1. Campaign
    let campaign: Campaign | undefined;
    if (info.direction === 'outbound' && info.campaignId) {
      campaign = snapshot.campaigns.get(info.campaignId);
      if (!campaign) return reject('unknown_number', PROMPTS.unknownNumber, `unknown campaign ${info.campaignId}`);
    } else {
      const tn = snapshot.findTrackingNumber(info.dnis);
      campaign = tn && snapshot.campaigns.get(tn.campaignId);
      if (!campaign) return reject('unknown_number', PROMPTS.unknownNumber, `no campaign for ${info.dnis || '(empty DNIS)'}`);
    }
    trace.campaignId = campaign.id;
    trace.routing = campaign.routing;
    trace.floorCents = campaign.floorCents;
    if (!campaign.active) return reject('campaign_inactive', PROMPTS.screened, `campaign ${campaign.id} is paused`, campaign);

    // 2. Screening
    const location = locateConsumer({ areaCode: caller.ok ? caller.areaCode : undefined, zip: info.zip });
    trace.location = { ...location, areaCode: caller.ok ? caller.areaCode : undefined, zip: info.zip };
    const screening = await this.screen(caller, campaign, info, location, now);
    trace.screening = screening;
    if (!screening.pass || !caller.ok) return reject('screened_out', PROMPTS.screened, screening.reasons.join(','), campaign);
    return { campaign, caller, location, trace, started };
  }

  private async screen(caller: CallerParse, campaign: Campaign, info: CallInfo, location: ConsumerLocation, now: Date): Promise<ScreenResult> {
    if (!caller.ok) {
      // No number to look up: the caller rule decides alone (plus attestation, for the record).
      return screenCall({ caller, campaign, direction: info.direction, attestation: info.attestation, facts: { dnc: { global: false, campaign: false, registry: false }, blocked: false, consent: false } });
    }
    const facts = await this.deps.compliance.lookup(caller.e164, campaign.id);
    const callingHours = info.direction === 'outbound' ? checkCallingHours({ now, states: location.states, timeZones: location.timeZones }) : undefined;
    return screenCall({ caller, campaign, direction: info.direction, attestation: info.attestation, facts: { ...facts, callingHours } });
  }
}

/** Validation shared by every bid source before it may enter the auction. */
function invalidBid(b: Bid): string | undefined {
  if (!Number.isInteger(b.bidCents) || b.bidCents < 0) return `bid must be a whole number of cents >= 0, got ${b.bidCents}`;
  if (!b.destination) return 'bid has no destination';
  if (!(b.qualityScore >= 0 && b.qualityScore <= 1)) return `quality score out of range: ${b.qualityScore}`;
  if (!(b.answerTimeoutSec > 0)) return 'answer timeout must be positive';
  return undefined;
}

