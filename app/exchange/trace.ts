import type { ExclusionReason } from '../domain/discovery';
import type { ScreenResult } from '../domain/screening';

/** Why a call was not routed. Stable names: they appear in the calls table, the API and metrics. */
export type RejectReason =
  | 'unknown_number'
  | 'campaign_inactive'
  | 'screened_out'
  | 'no_eligible_buyer'
  | 'caller_gone'
  | 'internal_error';

/** One buyer target's fate in a decision, as shown to people (see traceBuyers). */
export interface BuyerTraceEntry {
  targetId: string;
  buyerAccountId: string;
  bidCents: number;
  source: string;
  status: 'won' | 'lost' | 'excluded' | 'cap_reached' | 'insufficient_funds';
  reason?: ExclusionReason | 'cap_concurrency' | 'cap_hourly' | 'cap_daily' | 'cap_monthly' | 'outranked' | 'bid_timeout' | 'bid_error' | 'bid_invalid' | 'bid_skipped';
  detail?: string;
  rank?: number;
  score?: number;
  priceCents?: number;
}

/** The full story of one routing decision, stored as JSON in call_decisions and shown by the API. */
export interface DecisionTrace {
  callId: string;
  decidedAt: string;
  direction: 'inbound' | 'outbound';
  dnis: string;
  ani: string;
  campaignId?: string;
  routing?: string;
  floorCents?: number;
  caller: { ok: boolean; e164?: string; reason?: string; detail?: string };
  location?: { source: string; states: string[]; timeZones: string[]; areaCode?: string; zip?: string };
  /** The STIR/SHAKEN level the call was judged on and where it came from; `ignored`: an untrusted header's claim. */
  attestation?: { level?: 'A' | 'B' | 'C'; source?: string; ignored?: string };
  /** Calls to consumers: when the calling-hours verdict was reached (before dialling, for an answered call). */
  callingHoursCheckedAt?: string;
  screening?: ScreenResult;
  /**
   * Bids that entered the auction, in rank order (rank = index + 1), as parallel columns: a decision over a
   * thousand buyers then costs a few arrays, not a thousand objects, and its JSON stays small.
   */
  ranked: {
    targetId: string[];
    buyerAccountId: string[];
    bidCents: number[];
    score: number[];
    priceCents: number[];
    source: string[];
    status: Array<'won' | 'lost' | 'cap_reached' | 'insufficient_funds'>;
    /** for cap_reached: which cap (cap_concurrency, cap_hourly, ...); for insufficient_funds (its buyer's funds, less what its calls in progress hold, did not cover the price): insufficient_funds */
    reason: Array<string | null>;
  };
  /** Targets and bids kept out of the auction, and why. */
  excluded: {
    targetId: string[];
    buyerAccountId: string[];
    bidCents: number[];
    source: string[];
    reason: string[];
    detail: Array<string | null>;
  };
  outcome: 'route' | 'reject';
  rejectReason?: RejectReason;
  rejectDetail?: string;
  winnerTargetId?: string;
  priceCents?: number;
  /** A call that claimed a seller's bid (POST /rtb/ping): reserved by that bid, at that price. */
  sellerBid?: { bidId: string; priceCents: number };
  decisionUs: number;
}

export function emptyRanking(): DecisionTrace['ranked'] {
  return { targetId: [], buyerAccountId: [], bidCents: [], score: [], priceCents: [], source: [], status: [], reason: [] };
}

export function emptyExclusions(): DecisionTrace['excluded'] {
  return { targetId: [], buyerAccountId: [], bidCents: [], source: [], reason: [], detail: [] };
}

export function addExclusion(trace: Pick<DecisionTrace, 'excluded'>, e: { targetId: string; buyerAccountId: string; bidCents: number; source: string; reason: string; detail?: string }): void {
  // Discovery may have given the trace exclusions shared with other calls (frozen): copied before the first change.
  if (Object.isFrozen(trace.excluded.targetId)) trace.excluded = copyExclusions(trace.excluded);
  const x = trace.excluded;
  x.targetId.push(e.targetId);
  x.buyerAccountId.push(e.buyerAccountId);
  x.bidCents.push(e.bidCents);
  x.source.push(e.source);
  x.reason.push(e.reason);
  x.detail.push(e.detail ?? null);
}

function copyExclusions(x: DecisionTrace['excluded']): DecisionTrace['excluded'] {
  return { targetId: x.targetId.slice(), buyerAccountId: x.buyerAccountId.slice(), bidCents: x.bidCents.slice(), source: x.source.slice(), reason: x.reason.slice(), detail: x.detail.slice() };
}

/** Every buyer considered, one entry each (ranked first, in rank order, then the excluded): for people and tests. */
export function traceBuyers(trace: Pick<DecisionTrace, 'ranked' | 'excluded'>): BuyerTraceEntry[] {
  const out: BuyerTraceEntry[] = [];
  const r = trace.ranked;
  for (let i = 0; i < r.targetId.length; i++) {
    const status = r.status[i]!;
    out.push({
      targetId: r.targetId[i]!,
      buyerAccountId: r.buyerAccountId[i]!,
      bidCents: r.bidCents[i]!,
      source: r.source[i]!,
      status,
      ...(status === 'lost' ? { reason: 'outranked' as const } : r.reason[i] ? { reason: r.reason[i] as BuyerTraceEntry['reason'] } : {}),
      rank: i + 1,
      score: r.score[i]!,
      priceCents: r.priceCents[i]!,
    });
  }
  const x = trace.excluded;
  for (let i = 0; i < x.targetId.length; i++) {
    out.push({
      targetId: x.targetId[i]!,
      buyerAccountId: x.buyerAccountId[i]!,
      bidCents: x.bidCents[i]!,
      source: x.source[i]!,
      status: 'excluded',
      reason: x.reason[i] as BuyerTraceEntry['reason'],
      ...(x.detail[i] ? { detail: x.detail[i]! } : {}),
    });
  }
  return out;
}
