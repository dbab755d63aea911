import { createHash } from 'node:crypto';

/** Why a seller's ping got a zero bid (POST /rtb/ping `rejectReason`): stable names, documented in the README. */
export const SELLER_REJECT_CODES = ['disabled', 'filtered', 'no_capacity', 'caller_blocked', 'closed_or_capped', 'rate_limited'] as const;
export type SellerRejectCode = (typeof SELLER_REJECT_CODES)[number];

/** What the router's decision on a ping says about why nobody bid (a trace's fields). */
export interface PingVerdict {
  /** the router's reject reason (unknown_number, campaign_inactive, screened_out, no_eligible_buyer, ...) */
  reason: string;
  /** buyers ranked but passed over: their reasons (cap_concurrency, cap_hourly, ..., insufficient_funds) */
  skipped: ReadonlyArray<string | null>;
  /** buyers kept out of the auction: their exclusion reasons (geo_state, schedule_closed, below_floor, ...) */
  excluded: readonly string[];
}

/** Reasons a buyer cannot take a call right now but could in a moment: its lines or its funds are taken. */
const BUSY = new Set(['cap_concurrency', 'insufficient_funds']);
/** Reasons a buyer is shut for a while: its open hours, or a cap for the hour, day or month reached. */
const CLOSED = new Set(['schedule_closed', 'cap_hourly', 'cap_daily', 'cap_monthly']);

/**
 * The seller's reject code for a ping nobody bid on. Screening's reasons are all about the caller (DNC, blocked,
 * consent, litigator), so any of them is `caller_blocked`. When no buyer was left, the most hopeful reason among
 * the buyers wins: some buyer would take it but has no free line or funds now (`no_capacity`, ping again soon),
 * else some buyer is shut by its hours or a period cap (`closed_or_capped`), else the call matches nobody's
 * targeting, floor or activity (`filtered`).
 */
export function sellerRejectCode(v: PingVerdict): SellerRejectCode {
  switch (v.reason) {
    case 'unknown_number':
    case 'campaign_inactive':
      return 'disabled';
    case 'screened_out':
      return 'caller_blocked';
    default:
      break;
  }
  const reasons = [...v.skipped.filter((r): r is string => r !== null), ...v.excluded];
  if (reasons.some((r) => BUSY.has(r))) return 'no_capacity';
  if (reasons.some((r) => CLOSED.has(r))) return 'closed_or_capped';
  return 'filtered';
}

/**
 * The identity of a ping for repeats: the same seller, campaign, caller and tags (key order ignored) before the
 * bid expires get the same bid. Hashed: the caller's number is not spelled out in the key.
 */
export function pingIdentity(p: { sellerAccountId: string; campaignId: string; callerE164: string; tags: Readonly<Record<string, string>> }): string {
  const tags = Object.keys(p.tags).sort().map((k) => [k, p.tags[k]]);
  return createHash('sha256').update(JSON.stringify([p.sellerAccountId, p.campaignId, p.callerE164, tags])).digest('base64url');
}
