/**
 * When an ended call is paid, and the postings that pay it. Pure: the billing worker gathers the facts (the call,
 * its campaign's payout rule, the winning target's conversion threshold, earlier converted calls of the caller)
 * and writes what this decides.
 *
 * A call converts when it was bridged, its billable duration reached the target's `convert_on_seconds`, and the
 * same caller did not already convert on the same campaign within the duplicate window. A converted call moves
 * the price from the buyer to the seller (its payout) and the platform (the margin): every transaction sums to 0.
 *
 * A call whose node was lost and which ended unwatched (outcome `node_lost`) is billed like a bridged call if it
 * had bridged, on its recorded billable time: a lower bound of its real one (from the bridge to when it was last
 * known alive), so it converts only if what it certainly lasted reaches the threshold, and is never charged for
 * more than it really lasted. One that never bridged is `not_bridged`.
 */

/** The platform's own account (migrations/003_billing.sql). */
export const PLATFORM_ACCOUNT = 'platform';

export interface EndedCall {
  callId: string;
  campaignId: string;
  sellerAccountId: string;
  ani: string;
  startedAt: Date;
  outcome: string;
  /** the record has a bridge time (a `node_lost` call is billed only if it bridged) */
  bridged?: boolean;
  /** for a `node_lost` call, a lower bound of the real billable time */
  billableSec: number;
  winnerBuyerId?: string;
  priceCents?: number;
}

export interface PayoutRule {
  /** a fixed payout per converted call */
  payoutCents: number | null;
  /** or a share of the buyer's price, 0..100 (two decimals) */
  payoutPercent: number | null;
  /** an admin allowed this campaign to pay its seller more than the buyer pays (a negative margin); default no */
  allowNegativeMargin?: boolean;
}

export interface Posting {
  accountId: string;
  /** positive: the account is owed more; negative: it pays */
  amountCents: number;
}

export type BillingReason = 'converted' | 'not_bridged' | 'too_short' | 'duplicate_caller';

export interface BillingDecision {
  converted: boolean;
  duplicate: boolean;
  reason: BillingReason;
  buyerChargeCents: number;
  sellerPayoutCents: number;
  postings: Posting[];
}

/**
 * The seller's payout for a converted call at `priceCents`, in whole cents (a share rounds down). Never more than
 * the price unless the campaign allows a negative margin: a payout set too high (by mistake, or by whoever got to
 * change it) cannot move more money to the seller than the buyer paid for the call.
 */
export function sellerPayout(priceCents: number, rule: PayoutRule): number {
  const payout = rule.payoutCents !== null
    ? rule.payoutCents
    : rule.payoutPercent !== null ? Math.floor((priceCents * Math.round(rule.payoutPercent * 100)) / 10_000) : 0;
  return rule.allowNegativeMargin ? payout : Math.min(payout, Math.max(priceCents, 0));
}

/** True when the caller already converted on this campaign within `windowDays` before this call started. */
export function isDuplicateCaller(earlierConversions: readonly Date[], startedAt: Date, windowDays: number): boolean {
  if (windowDays <= 0) return false;
  const from = startedAt.getTime() - windowDays * 86_400_000;
  return earlierConversions.some((t) => t.getTime() >= from && t.getTime() < startedAt.getTime());
}

/** A bridged call, or one that bridged before its node was lost and ended unwatched. */
function wasBridged(call: EndedCall): boolean {
  return call.outcome === 'bridged' || (call.outcome === 'node_lost' && call.bridged === true);
}

export function decideBilling(call: EndedCall, convertOnSeconds: number, rule: PayoutRule, duplicate: boolean): BillingDecision {
  const none = (reason: BillingReason): BillingDecision => ({ converted: false, duplicate, reason, buyerChargeCents: 0, sellerPayoutCents: 0, postings: [] });
  if (!wasBridged(call) || !call.winnerBuyerId || call.priceCents === undefined) return none('not_bridged');
  if (call.billableSec < convertOnSeconds) return none('too_short');
  if (duplicate) return none('duplicate_caller');
  const price = call.priceCents;
  const payout = sellerPayout(price, rule);
  const postings: Posting[] = [
    { accountId: call.winnerBuyerId, amountCents: -price },
    { accountId: call.sellerAccountId, amountCents: payout },
    { accountId: PLATFORM_ACCOUNT, amountCents: price - payout },
  ].filter((p) => p.amountCents !== 0);
  return { converted: true, duplicate: false, reason: 'converted', buyerChargeCents: price, sellerPayoutCents: payout, postings };
}
