import type { Logger } from '../observability/logger';
import type { CallInfo } from '../switch/port';
import type { Account, BuyerTarget, Campaign } from '../domain/model';
import type { CapCounter } from '../domain/caps';
import { parseCaller, type CallerParse } from '../domain/phone';
import { locateConsumer, locateForCallingHours } from '../domain/geo';
import { checkCallingHours, type CallingHoursVerdict } from '../domain/calling-hours';
import { consentRequired, screenCall, type ScreenResult } from '../domain/screening';
import { DEFAULT_FREQUENCY_POLICY, frequencyLimitsFor, frequencyRetentionSec, frequencySubjectOf, type FrequencyPolicy } from '../domain/frequency-limits';
import { judgeAttestation, NO_TRUST, type Attestation, type AttestationTrust } from '../domain/attestation';
import { judgeRegistryCopy, NO_LIST_FACTS, registryKindFor } from '../domain/lists';
import { runAuction, type Bid, type RankedBid } from '../domain/auction';
import { capCounters } from '../domain/caps';
import type { ComplianceFacts } from '../cache/compliance-keys';
import { ScreenAndReserve, type OutboundFrequency, type ReserveCandidate } from '../cache/screen-and-reserve';
import { CapLedger, type Shortfall } from '../cache/cap-ledger';
import type { SellerBidReservation, SellerBidReservations } from '../cache/seller-bid-reservations';
import type { FundHold } from '../cache/fund-holds';
import type { ConfigSnapshot } from './snapshot';
import { discoverStandingBids, rankingColumns, standingBidsOf } from './snapshot-discovery';
import { judgeTargetForCall } from '../domain/discovery';
import type { SnapshotSource } from './snapshot-source';
import type { OutboundClearance } from './outbound-clearances';
import { collectBids, type Bidder } from './bidders';
import { rtbBidderName, type RtbPinger } from './rtb-pinger';
import type { RepeatCallers } from '../cache/repeat-callers';
import { rtbPingBody } from '../domain/rtb';
import { addExclusion, emptyExclusions, emptyRanking, type DecisionTrace, type RejectReason } from './trace';

/** A ranked bid that holds its cap reservation and its buyer's fund hold: what a call keeps to give them back. */
export interface ReservedBid {
  bid: RankedBid;
  counters: CapCounter[];
  hold: FundHold;
}

/** A candidate passed over during failover, as the call's attempts record it. */
export interface SkippedBid {
  status: 'cap_reached' | 'insufficient_funds';
  /** cap_concurrency, cap_hourly, ... or insufficient_funds */
  cause: string;
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

/**
 * A seller's ping (POST /rtb/ping) decided like a call: the best bid and, when the caller id was given, its
 * buyer's caps and funds reserved under the bid's id until `leaseUntilMs`.
 */
export type Quote =
  | { outcome: 'reject'; reason: RejectReason; trace: DecisionTrace }
  | {
      outcome: 'bid';
      campaign: Campaign;
      /** the bid the seller is quoted (rank 1 of those with room) */
      bid: RankedBid;
      /** its reservation; absent for a ping without a caller id (nothing to screen or to hold: informational) */
      reserved?: ReservedBid;
      trace: DecisionTrace;
    };

/** What a ping tells the router beyond a call's facts. */
export interface QuoteRequest {
  campaignId: string;
  /** the campaign's tracking number the call is to arrive on */
  trackingNumber: string;
  /** the caller id; absent: an informational bid, nothing screened nor reserved */
  ani?: string;
  zip?: string;
  /** a USPS state code, used when no zip is given */
  state?: string;
  /** when the reservation lapses */
  leaseUntilMs: number;
}

/** A request that passed screening (steps 1-2), before discovery. */
export interface ScreenedCall {
  outcome: 'pass';
  campaign: Campaign;
  trace: DecisionTrace;
  /** Calls to consumers: the calling-hours verdict the call may be dialled on. */
  callingHours?: CallingHoursVerdict;
}

export interface RouterDeps {
  snapshots: SnapshotSource;
  gate: ScreenAndReserve;
  caps: CapLedger;
  /** Real-time bidders, in addition to the standing bids of the campaign's buyer targets. */
  bidders?: readonly Bidder[];
  /** Pings the campaign's buyer targets that carry an RTB endpoint (issue 15); without it they bid only their standing bids. */
  rtb?: RtbPinger;
  /** Whether a caller called the campaign before: asked only for campaigns whose pings share `repeatCaller`. */
  repeatCallers?: RepeatCallers;
  /** Capacity reserved for sellers' bids (POST /rtb/ping): an inbound call that matches one claims it. */
  sellerBids?: SellerBidReservations;
  random?: () => number;
  /** Per-consumer frequency limits on outbound calls: the operator's default and what counts as one subject. */
  frequency?: FrequencyPolicy;
  /** Carrier trunks whose attestation headers are believed (ATTESTATION_TRUSTED_CARRIERS); none by default. */
  attestationTrust?: AttestationTrust;
  /** The national registry rules' settings (DNC_REGISTRY_MAX_AGE_DAYS, DNC_REGISTRY_REQUIRED); default 31 days, not required. */
  registry?: { maxAgeDays: number; required: boolean };
  logger: Logger;
}

/** Prompt names the adapters map to sound files. */
export const PROMPTS = { unknownNumber: 'number_not_in_service', screened: 'call_cannot_be_completed', error: 'technical_difficulties' };

/** How many ranked candidates the single Redis round trip may try to reserve; failover past them costs one trip each. */
const RESERVE_IN_FIRST_TRIP = 4;

/** A ping without a caller id: discovery and the auction run on the seller's location alone. */
const NO_CALLER: Extract<CallerParse, { ok: true }> = Object.freeze({ ok: true, e164: '', country: 'US', nationalNumber: '' });

const NO_FACTS: ComplianceFacts = { dnc: { global: false, campaign: false, registry: false }, blocked: false, consent: false, lists: NO_LIST_FACTS };

/** What steps 1-2 worked out before any Redis call. */
interface Prepared {
  campaign: Campaign;
  caller: Extract<CallerParse, { ok: true }>;
  callingHours?: CallingHoursVerdict;
  /** the attestation level the call is judged on (ours for outbound calls; a header only from a trusted trunk) */
  attestation?: Attestation;
  /** false when a rule that needs no lookup (attestation, calling hours) already blocks the call */
  pureRulesPass: boolean;
  /** the campaign as screening judges it (a ping's has no attestation rule: nothing to attest before the call) */
  screenedAs: Campaign;
  trace: DecisionTrace;
  started: bigint;
}

/**
 * Steps 1-4 of a call: campaign, screening, discovery, auction, with the winner's caps reserved.
 * Reads the in-memory snapshot and makes one Redis round trip: the auction runs first in memory, then one
 * script fetches the caller's compliance facts and, if they allow the call, reserves the best candidate.
 */
export class Router {
  private readonly random: () => number;
  private readonly frequency: FrequencyPolicy;
  private readonly frequencyRetentionSec: number;
  private readonly registry: { maxAgeDays: number; required: boolean };
  constructor(private readonly deps: RouterDeps) {
    this.random = deps.random ?? Math.random;
    this.frequency = deps.frequency ?? DEFAULT_FREQUENCY_POLICY;
    this.frequencyRetentionSec = frequencyRetentionSec(this.frequency);
    this.registry = deps.registry ?? { maxAgeDays: 31, required: false };
  }

  /**
   * Steps 1-2 only: campaign and compliance screening. Used before placing a call to a consumer, so a
   * blocked request never reaches the switch.
   */
  async screenRequest(callId: string, info: CallInfo, now: Date): Promise<Decision | ScreenedCall> {
    const prepared = this.prepare(callId, info, now);
    if ('outcome' in prepared) return prepared;
    const { campaign, trace } = prepared;
    // An outbound request that passes every rule is counted against the consumer's frequency limits in the same
    // round trip (so two nodes cannot both place the last call); one a pure rule already blocks is not counted.
    const outbound = info.direction === 'outbound' ? { sellerId: campaign.sellerAccountId, frequency: prepared.pureRulesPass ? this.frequencyFor(prepared, info, now) : undefined } : undefined;
    const r = await this.screenAndReserve(prepared, info, callId, now, false, [], outbound);
    const screening = this.screening(prepared, info, r.facts, now);
    trace.screening = screening;
    if (!screening.pass) return this.reject(prepared.started, trace, 'screened_out', PROMPTS.screened, screening.reasons.join(','), campaign);
    trace.decisionUs = elapsedUs(prepared.started);
    return { outcome: 'pass', campaign, trace, callingHours: prepared.callingHours };
  }

  /**
   * Steps 1-4. `cleared`: for a consumer who answered a call we placed, what was decided before dialling; its
   * calling-hours verdict stands (the consumer picked up a call that was lawful to place), not a new one at the
   * answer time.
   */
  async decide(callId: string, info: CallInfo, now: Date, cleared?: OutboundClearance): Promise<Decision> {
    const prepared = this.prepare(callId, info, now, cleared);
    if ('outcome' in prepared) return prepared;
    const { campaign, caller, trace, started } = prepared;
    const snapshot = this.deps.snapshots.current();

    // 3-4. Discovery and auction, in memory (skipped when a pure rule already blocks the call)
    const ranked = prepared.pureRulesPass ? await this.rank(callId, campaign, caller, info, now, snapshot, trace) : [];
    const candidates = ranked.slice(0, RESERVE_IN_FIRST_TRIP).map((bid) => ({ bid, counters: this.countersFor(snapshot, bid, now), hold: holdFor(bid) }));

    // 2 + reservation: one round trip
    // An answered outbound call was counted when it was requested (screenRequest): it is not counted again.
    const outbound = info.direction === 'outbound' ? { sellerId: campaign.sellerAccountId } : undefined;
    // Whether a seller's bid awaits this caller on this number: read by the script itself, so a call nobody bid on
    // pays neither a round trip nor a command of its own.
    const sellerBidKey = prepared.pureRulesPass && info.direction === 'inbound' ? this.sellerBidKeyFor(info, caller.e164, snapshot) : undefined;
    const r = await this.screenAndReserve(prepared, info, callId, now, prepared.pureRulesPass && candidates.length > 0, candidates, outbound, undefined, sellerBidKey);
    const bidId = r.sellerBidId;
    const screening = this.screening(prepared, info, r.facts, now);
    trace.screening = screening;
    if (!screening.pass) {
      trace.ranked = emptyRanking(); // a blocked caller is offered to no buyer
      trace.excluded = emptyExclusions();
      // A seller's bid for a caller now refused holds its buyer for nothing: given back now, not at its expiry.
      if (bidId) void this.deps.sellerBids!.releaseById(bidId, now.getTime()).catch((err: Error) => this.deps.logger.warn({ err: err.message, callId }, 'could not give back a refused caller\'s seller bid; it lapses at its expiry'));
      return this.reject(started, trace, 'screened_out', PROMPTS.screened, screening.reasons.join(','), campaign);
    }

    let winner: ReservedBid | undefined = r.reserved >= 0 ? candidates[r.reserved] : undefined;
    let from = candidates.length;
    if (bidId) {
      // The bid already holds its buyer: the candidate the script reserved is given back, and the bid claimed.
      if (winner) await this.deps.caps.release(callId, winner.counters, winner.hold);
      const claimed = await this.claimSellerBid(callId, campaign, bidId, now);
      if (claimed) return this.routeClaimed(prepared, claimed, ranked);
      winner = undefined; // expired or taken a moment ago: the call is auctioned as any other, from the top
      from = 0;
    }
    this.traceRanking(ranked, trace);
    if (from > 0) r.skipped.forEach((short, i) => markSkipped(trace, i, short)); // candidates are the first ranks
    if (!winner && ranked.length > from) winner = await this.reserveNext(callId, ranked, from, now, trace);
    if (!winner) return this.reject(started, trace, 'no_eligible_buyer', campaign.noBuyerPrompt, `${ranked.length} ranked, ${ranked.length + trace.excluded.targetId.length} considered`, campaign);

    trace.ranked.status[winner.bid.rank - 1] = 'won';
    trace.outcome = 'route';
    trace.winnerTargetId = winner.bid.targetId;
    trace.priceCents = winner.bid.priceCents;
    trace.decisionUs = elapsedUs(started);
    return { outcome: 'route', campaign, winner, fallbacks: ranked.slice(winner.bid.rank), trace };
  }

  /**
   * A seller's ping: steps 1-4 as for a call to the campaign's tracking number from `ani`, the winner's caps and
   * fund hold reserved under `bidId` until `leaseUntilMs`. Attestation is not judged (the call has none yet; it is
   * judged when the call arrives). Without a caller id nothing is screened or reserved: the best bid is quoted.
   */
  async quote(bidId: string, q: QuoteRequest, now: Date): Promise<Quote> {
    const info: CallInfo = { switchCallId: bidId, switchName: 'rtb-ping', direction: 'inbound', ani: q.ani ?? '', dnis: q.trackingNumber, zip: q.zip };
    const snapshot = this.deps.snapshots.current();
    if (!q.ani) {
      // No caller: discovery by the seller's zip or state only; nothing screened, nothing reserved.
      const prepared = this.prepare(bidId, info, now, undefined, { state: q.state, noCaller: true });
      if ('outcome' in prepared) return rejectedQuote(prepared);
      const trace = prepared.trace;
      const ranked = await this.rank(bidId, prepared.campaign, prepared.caller, info, now, snapshot, trace);
      this.traceRanking(ranked, trace);
      trace.decisionUs = elapsedUs(prepared.started);
      if (ranked.length === 0) return { outcome: 'reject', reason: 'no_eligible_buyer', trace: { ...trace, outcome: 'reject', rejectReason: 'no_eligible_buyer' } };
      return { outcome: 'bid', campaign: prepared.campaign, bid: ranked[0]!, trace };
    }
    const prepared = this.prepare(bidId, info, now, undefined, { state: q.state });
    if ('outcome' in prepared) return rejectedQuote(prepared);
    const { campaign, caller, trace, started } = prepared;
    const ranked = prepared.pureRulesPass ? await this.rank(bidId, campaign, caller, info, now, snapshot, trace) : [];
    const candidates = ranked.slice(0, RESERVE_IN_FIRST_TRIP).map((bid) => ({ bid, counters: this.countersFor(snapshot, bid, now), hold: holdFor(bid) }));
    const r = await this.screenAndReserve(prepared, info, bidId, now, prepared.pureRulesPass && candidates.length > 0, candidates, undefined, q.leaseUntilMs);
    const screening = this.screening(prepared, info, r.facts, now);
    trace.screening = screening;
    if (!screening.pass) {
      trace.ranked = emptyRanking();
      trace.excluded = emptyExclusions();
      const d = this.reject(started, trace, 'screened_out', PROMPTS.screened, screening.reasons.join(','), campaign);
      return { outcome: 'reject', reason: 'screened_out', trace: d.trace };
    }
    this.traceRanking(ranked, trace);
    r.skipped.forEach((short, i) => markSkipped(trace, i, short));
    let winner: ReservedBid | undefined = r.reserved >= 0 ? candidates[r.reserved] : undefined;
    if (!winner && ranked.length > candidates.length) winner = await this.reserveNext(bidId, ranked, candidates.length, now, trace, undefined, q.leaseUntilMs);
    if (!winner) {
      const d = this.reject(started, trace, 'no_eligible_buyer', campaign.noBuyerPrompt, `${ranked.length} ranked, none with room`, campaign);
      return { outcome: 'reject', reason: 'no_eligible_buyer', trace: d.trace };
    }
    trace.ranked.status[winner.bid.rank - 1] = 'won';
    trace.outcome = 'route';
    trace.winnerTargetId = winner.bid.targetId;
    trace.priceCents = winner.bid.priceCents;
    trace.decisionUs = elapsedUs(started);
    return { outcome: 'bid', campaign, bid: winner.bid, reserved: winner, trace };
  }

  /** Where the id of a seller's bid awaiting a call from `e164` to this number would be (read by the screening script). */
  private sellerBidKeyFor(info: CallInfo, e164: string, snapshot: ConfigSnapshot): string | undefined {
    const did = this.deps.sellerBids && snapshot.findTrackingNumber(info.dnis)?.did;
    return did ? this.deps.sellerBids!.claimKeyFor(did, e164) : undefined;
  }

  /** Claims the seller's bid for this call: its reservation becomes the call's, if still live and for this campaign. */
  private async claimSellerBid(callId: string, campaign: Campaign, bidId: string, now: Date): Promise<SellerBidReservation | undefined> {
    const claimed = await this.deps.sellerBids!.claim(bidId, callId, now.getTime());
    if (!claimed || claimed.campaignId === campaign.id) return claimed;
    // The number moved to another campaign since the ping: the bid was for the old one.
    await this.deps.caps.release(callId, claimed.counters, claimed.hold);
    return undefined;
  }

  /**
   * A call that claimed a seller's bid (screened like any call, in the same round trip): offered to the reserved
   * buyer at the bid's price first, the rest of this call's ranking after it for failover.
   */
  private routeClaimed(p: Prepared, claimed: SellerBidReservation, ranked: RankedBid[]): Decision {
    const { campaign, trace, started } = p;
    trace.sellerBid = { bidId: claimed.bidId, priceCents: claimed.bid.priceCents };
    const bid: RankedBid = { ...claimed.bid, rank: 1 };
    const fallbacks = ranked.filter((b) => b.targetId !== bid.targetId).map((b, i) => ({ ...b, rank: i + 2 }));
    this.traceRanking([bid, ...fallbacks], trace);
    trace.ranked.status[0] = 'won';
    trace.outcome = 'route';
    trace.winnerTargetId = bid.targetId;
    trace.priceCents = bid.priceCents;
    trace.decisionUs = elapsedUs(started);
    return { outcome: 'route', campaign, winner: { bid, counters: claimed.counters, hold: claimed.hold }, fallbacks, trace };
  }

  /**
   * Reserves the caps and the fund hold of the first bid from `from` on that has room and funds, one round trip
   * per bid; bids skipped for a full cap or short funds are marked in the trace and passed to `onSkipped` (during
   * failover the trace is already journaled, so the call flow records each skip as an attempt). Used for failover
   * down the ranking.
   */
  async reserveNext(
    callId: string,
    ranked: RankedBid[],
    from: number,
    now: Date,
    trace: DecisionTrace,
    onSkipped?: (bid: RankedBid, skip: SkippedBid) => void,
    leaseUntilMs?: number,
  ): Promise<ReservedBid | undefined> {
    const snapshot = this.deps.snapshots.current();
    for (let i = from; i < ranked.length; i++) {
      const bid = ranked[i]!;
      const counters = this.countersFor(snapshot, bid, now);
      const hold = holdFor(bid);
      const r = await this.deps.caps.reserve(callId, counters, now.getTime(), hold, leaseUntilMs);
      if (r.ok) return { bid, counters, hold };
      markSkipped(trace, bid.rank - 1, r.short);
      onSkipped?.(bid, r.short.kind === 'funds' ? { status: 'insufficient_funds', cause: 'insufficient_funds' } : { status: 'cap_reached', cause: `cap_${r.short.counter.kind}` });
    }
    return undefined;
  }

  /** Step 1 and the parts of step 2 that need no lookup. */
  private prepare(callId: string, info: CallInfo, now: Date, cleared?: OutboundClearance, ping?: { state?: string; noCaller?: boolean }): Prepared | Decision {
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
      ranked: emptyRanking(),
      excluded: emptyExclusions(),
      outcome: 'reject',
      decisionUs: 0,
    };
    const attested = judgeAttestation(info, this.deps.attestationTrust ?? NO_TRUST);
    trace.attestation = { level: attested.level, source: attested.source, ignored: attested.ignored?.why };
    if (attested.ignored) this.deps.logger.debug({ callId, ignored: attested.ignored }, 'attestation header ignored');

    let campaign: Campaign | undefined;
    if (info.direction === 'outbound' && info.campaignId) {
      campaign = snapshot.campaigns.get(info.campaignId);
      if (!campaign) return this.reject(started, trace, 'unknown_number', PROMPTS.unknownNumber, `unknown campaign ${info.campaignId}`);
    } else {
      const tn = snapshot.findTrackingNumber(info.dnis);
      campaign = tn && snapshot.campaigns.get(tn.campaignId);
      if (!campaign) return this.reject(started, trace, 'unknown_number', PROMPTS.unknownNumber, `no campaign for ${info.dnis || '(empty DNIS)'}`);
    }
    trace.campaignId = campaign.id;
    trace.routing = campaign.routing;
    trace.floorCents = campaign.floorCents;
    if (!campaign.active) return this.reject(started, trace, 'campaign_inactive', PROMPTS.screened, `campaign ${campaign.id} is paused`, campaign);
    const screenedAs: Campaign = ping && campaign.minAttestation ? { ...campaign, minAttestation: undefined } : campaign;

    const areaCode = caller.ok ? caller.areaCode : undefined;
    // A ping may name the state instead of a zip: the seller's word beats the area code's guess.
    const location = ping?.state && !info.zip ? { source: 'state', states: [ping.state], timeZones: locateConsumer({ areaCode, zip: undefined }).timeZones } : locateConsumer({ areaCode, zip: info.zip });
    trace.location = { source: location.source, states: location.states, timeZones: location.timeZones, areaCode, zip: info.zip };
    let callingHours: CallingHoursVerdict | undefined;
    if (info.direction === 'outbound') {
      callingHours = cleared?.callingHours ?? this.callingHours(info, caller, campaign, now);
      trace.callingHoursCheckedAt = (cleared?.callingHours ? cleared.screenedAt : now).toISOString();
    }
    if (!caller.ok && ping?.noCaller) return { campaign, caller: NO_CALLER, callingHours, pureRulesPass: true, screenedAs, trace, started };
    if (!caller.ok) {
      // No number to look up: the caller rule decides (the other pure rules are kept for the record).
      const screening = screenCall({ caller, campaign: screenedAs, direction: info.direction, attestation: attested.level, facts: { ...NO_FACTS, callingHours } });
      trace.screening = screening;
      return this.reject(started, trace, 'screened_out', PROMPTS.screened, screening.reasons.join(','), campaign);
    }
    // The rules that need no lookup: consent is taken as given here (the lookup judges it, and the lists with it).
    // (Facts built as a literal the spreads go into: a spread first and fields added after gives each object a map
    // of its own, ~0.5 KB per added field; see decision-entry.ts.)
    const pure = screenCall({ caller, campaign: screenedAs, direction: info.direction, attestation: attested.level, facts: { callingHours, ...NO_FACTS, consent: true } });
    return { campaign, caller, callingHours, attestation: attested.level, pureRulesPass: pure.pass, screenedAs, trace, started };
  }

  /**
   * Calls to consumers: judged in every jurisdiction that claims the number (its area code's and its zip's). A
   * number of a country we hold no rules for passes only when the campaign lists that country.
   */
  private callingHours(info: CallInfo, caller: CallerParse, campaign: Campaign, now: Date): CallingHoursVerdict {
    const where = caller.ok ? locateForCallingHours({ country: caller.country, areaCode: caller.areaCode, zip: info.zip }) : locateForCallingHours({ zip: info.zip });
    if (where.countries.length === 0 && caller.ok && campaign.allowedCountries?.includes(caller.country)) return { allowed: true };
    return checkCallingHours({ now, ...where });
  }

  /**
   * An outbound request that passed screening but was never put to a switch (no caller id, no switch) is no call:
   * it is taken back from the consumer's frequency count.
   */
  async uncountOutbound(callId: string, campaign: Campaign, e164: string): Promise<void> {
    await this.deps.gate.uncount(frequencySubjectOf(campaign, this.frequency.subject), e164, callId);
  }

  /**
   * The frequency limits in force for an outbound call to this consumer: those of every state that claims the
   * number (its area code's and its zip's, as for calling hours).
   */
  private frequencyFor(p: Prepared, info: CallInfo, now: Date): OutboundFrequency {
    const { states } = locateForCallingHours({ country: p.caller.country, areaCode: p.caller.areaCode, zip: info.zip });
    const limits = frequencyLimitsFor({ states, now, policy: this.frequency });
    return { subject: frequencySubjectOf(p.campaign, this.frequency.subject), limits, retentionSec: this.frequencyRetentionSec };
  }

  /**
   * The one Redis round trip: the caller's compliance facts (consent required by consentRequired: every outbound
   * call unless exempt), the lists, for outbound calls the seller's DNC list and frequency count, and if they all
   * allow the call, a candidate's reservation.
   */
  private screenAndReserve(p: Prepared, info: CallInfo, callId: string, now: Date, mayReserve: boolean, candidates: ReserveCandidate[], outbound?: { sellerId: string; frequency?: OutboundFrequency }, leaseUntilMs?: number, sellerBidKey?: string) {
    return this.deps.gate.run({
      e164: p.caller.e164,
      country: p.caller.country,
      areaCode: p.caller.areaCode,
      campaignId: p.campaign.id,
      requireConsent: consentRequired(p.campaign, info.direction),
      mayReserve,
      callId,
      nowMs: now.getTime(),
      candidates,
      lists: { outbound: info.direction === 'outbound', blockLitigators: p.campaign.blockLitigators === true, registryMaxAgeDays: this.registry.maxAgeDays, registryRequired: this.registry.required },
      outbound,
      leaseUntilMs,
      sellerBidKey,
    });
  }

  private screening(p: Prepared, info: CallInfo, facts: ComplianceFacts, now: Date): ScreenResult {
    const kind = registryKindFor(p.caller.country);
    const registry = info.direction === 'outbound' && kind
      ? judgeRegistryCopy({ kind, copy: facts.lists.registryCopy, areaCode: p.caller.areaCode, nowMs: now.getTime(), maxAgeDays: this.registry.maxAgeDays, required: this.registry.required })
      : undefined;
    return screenCall({ caller: p.caller, campaign: p.screenedAs, direction: info.direction, attestation: p.attestation, facts: { callingHours: p.callingHours, ...facts, ...(registry ? { registry } : {}) } });
  }

  /** Discovery (standing bids, then real-time bids under the campaign's deadline) and the auction. */
  private async rank(callId: string, campaign: Campaign, caller: Extract<CallerParse, { ok: true }>, info: CallInfo, now: Date, snapshot: ConfigSnapshot, trace: DecisionTrace): Promise<RankedBid[]> {
    const bids: Bid[] = []; // real-time bids that pass (the standing ones are `standing`, a set over the book)
    const location = trace.location!;
    const geo = { states: location.states, areaCode: caller.areaCode, zip: info.zip };
    const snapshots = this.deps.snapshots;
    const book = snapshot.book(campaign);
    const standing = discoverStandingBids(book, geo, now, (buyerAccountId) => snapshots.availableFunds(buyerAccountId), trace);
    // RTB targets open at this hour and place: one ping each, all at once, under the campaign's deadline.
    const rtbTargets = new Map<string, BuyerTarget>();
    let bidders = this.deps.bidders ?? [];
    if (book.rtb.length > 0 && this.deps.rtb) {
      const pinger = this.deps.rtb;
      const repeatCaller = campaign.rtbShare?.includes('repeatCaller') && this.deps.repeatCallers ? await this.deps.repeatCallers.seenBefore(campaign.id, caller.e164) : undefined;
      const body = rtbPingBody(campaign, { callId, e164: caller.e164, areaCode: caller.areaCode, states: location.states, zip: info.zip, timeZones: location.timeZones, attestation: trace.attestation?.level, repeatCaller, now }, pinger.callerHashSalt);
      const rtbBidders: Bidder[] = [];
      for (const target of book.rtb) {
        const verdict = judgeTargetForCall(target, geo, now);
        if (!verdict.eligible) {
          addExclusion(trace, { targetId: target.id, buyerAccountId: target.buyerAccountId, bidCents: 0, source: 'rtb', reason: verdict.reason });
          continue;
        }
        // A buyer who cannot pay the least bid that could win is not asked (the ping would only cost it a slot).
        const funds = snapshots.availableFunds(target.buyerAccountId) ?? fundsOf(snapshot.accounts.get(target.buyerAccountId));
        const least = Math.max(1, campaign.floorCents, target.rtb?.minBidCents ?? 0);
        if (funds !== undefined && funds < least) {
          addExclusion(trace, { targetId: target.id, buyerAccountId: target.buyerAccountId, bidCents: 0, source: 'rtb', reason: 'insufficient_funds', detail: `available ${funds} < ${least}, the least bid that could win` });
          continue;
        }
        rtbTargets.set(rtbBidderName(target.id), target);
        rtbBidders.push(pinger.bidderFor(target, body));
      }
      if (rtbBidders.length > 0) bidders = [...bidders, ...rtbBidders];
    }
    if (bidders.length > 0) {
      const req = { callId, campaign, callerE164: caller.e164, location: { source: location.source as 'zip' | 'area_code' | 'unknown', states: location.states, timeZones: location.timeZones }, areaCode: caller.areaCode, zip: info.zip, now };
      const collected = await collectBids(bidders, req, campaign.bidDeadlineMs);
      for (const b of collected.bids) {
        const problem = invalidBid(b);
        const funds = snapshots.availableFunds(b.buyerAccountId) ?? fundsOf(snapshot.accounts.get(b.buyerAccountId));
        if (problem) addExclusion(trace, { targetId: b.targetId, buyerAccountId: b.buyerAccountId, bidCents: b.bidCents, source: b.source, reason: 'bid_error', detail: problem });
        else if (funds !== undefined && funds < b.bidCents) addExclusion(trace, { targetId: b.targetId, buyerAccountId: b.buyerAccountId, bidCents: b.bidCents, source: b.source, reason: 'insufficient_funds', detail: `available ${funds} < bid ${b.bidCents}` });
        else bids.push(b);
      }
      for (const name of collected.late) {
        const t = rtbTargets.get(name);
        addExclusion(trace, { targetId: t?.id ?? '', buyerAccountId: t?.buyerAccountId ?? '', bidCents: 0, source: t ? 'rtb' : name, reason: 'bid_timeout', detail: `no answer within ${campaign.bidDeadlineMs} ms` });
      }
      for (const f of collected.failed) {
        const t = rtbTargets.get(f.bidder);
        addExclusion(trace, { targetId: t?.id ?? '', buyerAccountId: t?.buyerAccountId ?? '', bidCents: 0, source: t ? 'rtb' : f.bidder, reason: f.reason ?? 'bid_error', detail: f.error });
      }
    }
    // The standing bids first, then the real-time ones that passed. A target's RTB bid replaces its standing bid
    // for this call: one bid per target in the auction.
    const rtbBid = new Set<string>();
    for (const b of bids) if (b.source === 'rtb') rtbBid.add(b.targetId);
    const standingBids = (): Bid[] => {
      const all = standingBidsOf(book, standing);
      return rtbBid.size === 0 ? all : all.filter((b) => !rtbBid.has(b.targetId));
    };
    const auction = (): RankedBid[] => runAuction({ bids: standingBids().concat(bids), routing: campaign.routing, floorCents: campaign.floorCents, random: this.random });
    // Standing bids alone in a price auction: the same targets give the same ranking (weighted routing draws anew).
    return bids.length === 0 && campaign.routing !== 'priority_weight' ? book.rankings.get(standing, auction) : auction();
  }

  /** Every ranked bid enters the trace as outranked, in rank order; the winner is marked when known. */
  private traceRanking(ranked: RankedBid[], trace: DecisionTrace): void {
    // Columns made at their size (pushing a thousand bids into eight arrays regrew each many times), or shared
    // frozen with a cached ranking: only status and reason change per decision.
    trace.ranked = {
      ...rankingColumns(ranked),
      status: new Array<'lost'>(ranked.length).fill('lost'),
      reason: new Array<null>(ranked.length).fill(null),
    };
  }

  private countersFor(snapshot: ConfigSnapshot, bid: RankedBid, now: Date): CapCounter[] {
    const target = snapshot.targets.get(bid.targetId);
    return target ? capCounters(target, now) : [];
  }

  private reject(started: bigint, trace: DecisionTrace, reason: RejectReason, prompt: string, detail?: string, campaign?: Campaign): Decision {
    trace.outcome = 'reject';
    trace.rejectReason = reason;
    if (detail) trace.rejectDetail = detail;
    trace.decisionUs = elapsedUs(started);
    return { outcome: 'reject', reason, prompt, campaign, trace };
  }
}

/** A decision prepare() ended (always a reject: an unknown number, a paused campaign), as a ping's answer. */
const rejectedQuote = (d: Decision): Quote => ({ outcome: 'reject', reason: d.outcome === 'reject' ? d.reason : 'internal_error', trace: d.trace });

/** A ranked bid passed over: a full cap, or funds that, less its buyer's holds, do not cover its price. */
function markSkipped(trace: DecisionTrace, index: number, short: Shortfall): void {
  if (index < 0 || index >= trace.ranked.status.length) return;
  trace.ranked.status[index] = short.kind === 'funds' ? 'insufficient_funds' : 'cap_reached';
  trace.ranked.reason[index] = short.kind === 'funds' ? 'insufficient_funds' : `cap_${short.counter.kind}`;
}

/** A call's buyer is held its price (what billing will charge it) for as long as the call may cost it. */
const holdFor = (bid: RankedBid): FundHold => ({ buyerId: bid.buyerAccountId, cents: bid.priceCents });

/** What a buyer can spend: prepaid balance plus credit. */
const fundsOf = (a: Account | undefined): number | undefined => (a ? a.balanceCents + a.creditLimitCents : undefined);

const elapsedUs = (started: bigint): number => Number((process.hrtime.bigint() - started) / 1000n);

/** Validation shared by every bid source before it may enter the auction. */
function invalidBid(b: Bid): string | undefined {
  if (!Number.isInteger(b.bidCents) || b.bidCents < 0) return `bid must be a whole number of cents >= 0, got ${b.bidCents}`;
  if (!b.destination) return 'bid has no destination';
  if (!(b.qualityScore >= 0 && b.qualityScore <= 1)) return `quality score out of range: ${b.qualityScore}`;
  if (!(b.answerTimeoutSec > 0)) return 'answer timeout must be positive';
  return undefined;
}
