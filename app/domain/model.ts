/**
 * The exchange's configuration as the call path sees it: plain, immutable data loaded into an in-memory
 * snapshot. Money is integer cents; never a float.
 */

export type RoutingMode = 'first_price' | 'second_price' | 'priority_weight';

export interface Campaign {
  id: string;
  sellerAccountId: string;
  name: string;
  active: boolean;
  routing: RoutingMode;
  floorCents: number;
  /** inbound calls need a live consent record (outbound calls always do, unless exempt) */
  requireConsent: boolean;
  /** an admin exempted the campaign's outbound calls from the consent requirement (issue 14) */
  outboundConsentExempt?: boolean;
  /** refuse numbers on an imported TCPA litigator list (admin-set) */
  blockLitigators?: boolean;
  /** 'A': only A passes; 'B': A or B pass; undefined: no attestation required. */
  minAttestation?: 'A' | 'B';
  /**
   * Countries outside the US and Canada this campaign may call (ISO 3166-1 alpha-2). The exchange holds no
   * calling-hours rules for them: a listed country's numbers are not refused for the hour, the operator answers
   * for its rules. Unlisted: refused as country_not_covered.
   */
  allowedCountries?: string[];
  noBuyerPrompt: string;
  /** how long real-time bidders may take (the ping's `tmax`); standing bids answer at once */
  bidDeadlineMs: number;
  /** the call facts RTB buyers are told in a ping (besides the campaign id and tmax); none when absent */
  rtbShare?: RtbShareField[];
}

/** Call facts a campaign may let the exchange share with RTB buyers. */
export const RTB_SHARE_FIELDS = ['areaCode', 'callerHash', 'state', 'zip', 'localTime', 'attestation', 'repeatCaller'] as const;
export type RtbShareField = (typeof RTB_SHARE_FIELDS)[number];

/** A buyer target's real-time bidding endpoint: pinged at decision time, its answer checked against the bounds. */
export interface RtbEndpoint {
  /** http:// or https:// */
  url: string;
  minBidCents?: number;
  maxBidCents?: number;
}

export interface TrackingNumber {
  did: string; // E.164
  campaignId: string;
  sellerAccountId: string;
}

export interface Targeting {
  states?: string[];
  excludeStates?: string[];
  areaCodes?: string[];
  zips?: string[];
}

/** Open hours in the buyer's zone: per weekday (0 = Sunday), [startMinute, endMinute) intervals. */
export interface Schedule {
  timeZone: string;
  hours: Partial<Record<0 | 1 | 2 | 3 | 4 | 5 | 6, Array<[number, number]>>>;
}

export interface Caps {
  concurrency?: number;
  hourly?: number;
  daily?: number;
  monthly?: number;
}

export interface BuyerTarget {
  id: string;
  buyerAccountId: string;
  campaignId: string;
  name: string;
  active: boolean;
  bidCents: number;
  destination?: string;
  answerTimeoutSec: number;
  targeting: Targeting;
  schedule?: Schedule;
  caps: Caps;
  /** 0..1 */
  qualityScore: number;
  priority: number;
  weight: number;
  convertOnSeconds: number;
  /** pinged for a bid at decision time, instead of (bidCents 0) or beside the standing bid */
  rtb?: RtbEndpoint;
}

export interface Account {
  id: string;
  kind: 'buyer' | 'seller' | 'platform';
  name: string;
  active: boolean;
  balanceCents: number;
  creditLimitCents: number;
}
