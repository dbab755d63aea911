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

/** One buyer target's fate in a decision. */
export interface BuyerTraceEntry {
  targetId: string;
  buyerAccountId: string;
  bidCents: number;
  source: string;
  status: 'won' | 'lost' | 'excluded' | 'cap_reached';
  reason?: ExclusionReason | 'cap_concurrency' | 'cap_hourly' | 'cap_daily' | 'cap_monthly' | 'outranked' | 'bid_timeout' | 'bid_error';
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
  screening?: ScreenResult;
  buyers: BuyerTraceEntry[];
  outcome: 'route' | 'reject';
  rejectReason?: RejectReason;
  rejectDetail?: string;
  winnerTargetId?: string;
  priceCents?: number;
  decisionUs: number;
}
