/**
 * What each role may see of a call: one projection per role, used by every REST route that returns call-derived
 * data and by every live event (app/realtime/live-calls.ts), so the two can never disagree. Pure functions.
 *
 * - Admins and agents see everything.
 * - A buyer sees the calls offered to it (it was rung, or won) with its own attempts, price and charge; never
 *   another buyer's id, target, attempt or price, nor the winner unless it is the winner.
 * - A seller sees its calls and its payout; the buyer side (buyer ids, targets, destinations, prices, buyer
 *   charges) only when the platform set `sees_buyer_details` on its account.
 *
 * Fields are removed by allow-list where a role sees a part of a record, so a column added later stays hidden
 * from buyers and sellers until someone decides they may see it.
 */
import type { CallEvent } from '../exchange/call-events';
import type { Role } from '../store/api-keys';

export interface Viewer {
  role: Role;
  /** the seller or buyer account the key acts for */
  accountId?: string;
  /** a seller account allowed by the platform to see the buyer side of its calls */
  seesBuyerDetails?: boolean;
}

export const isOperator = (v: Viewer): boolean => v.role === 'admin' || v.role === 'agent';

/** Whether the viewer sees who bought the call and at what price. */
function seesBuyerSide(v: Viewer, buyerAccountId: string | null | undefined): boolean {
  if (isOperator(v)) return true;
  if (v.role === 'seller') return v.seesBuyerDetails === true;
  return buyerAccountId != null && buyerAccountId === v.accountId;
}

const pick = <T extends object>(o: T, keys: readonly string[]): Partial<T> => {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in o) out[k] = (o as Record<string, unknown>)[k];
  return out as Partial<T>;
};

// ---- calls (REST resources: app/api/resources.ts) -----------------------------------------------------------------

/** Columns of a call any party to it may see: the call's own facts, nothing about who bought it. */
const CALL_FACTS = [
  'id', 'direction', 'ani', 'dnis', 'campaignId', 'sellerAccountId', 'outcome', 'rejectReason', 'startedAt', 'decidedAt',
  'answeredAt', 'bridgedAt', 'endedAt', 'durationSec', 'billableSec', 'hangupCause', 'hungUpBy', 'endReason', 'switchName',
  'endIsLowerBound',
] as const;
/** The buyer side of a call row. */
const CALL_BUYER_SIDE = ['winnerBuyerId', 'winnerTargetId', 'priceCents'] as const;

export type CallRowView = Record<string, unknown>;

/** A call resource as the viewer may see it; the buyer side is null when hidden. */
export function projectCallRow(row: CallRowView, v: Viewer): CallRowView {
  if (isOperator(v)) return row;
  const out: CallRowView = pick(row, CALL_FACTS);
  const shown = seesBuyerSide(v, row.winnerBuyerId as string | null | undefined);
  for (const k of CALL_BUYER_SIDE) if (k in row) out[k] = shown ? row[k] : null;
  return out;
}

/** One buyer leg tried on a call. */
export interface AttemptRow {
  attemptNo: number;
  targetId: string;
  buyerId: string;
  destination: string;
  startedAt: string;
  endedAt: string | null;
  status: string;
  cause: string | null;
}

/**
 * The attempts the viewer may see: a buyer its own only; a seller every attempt's outcome, and who was rung only
 * with buyer details.
 */
export function projectAttempts(attempts: readonly AttemptRow[], v: Viewer): Array<Partial<AttemptRow>> {
  if (isOperator(v)) return [...attempts];
  if (v.role === 'buyer') return attempts.filter((a) => a.buyerId === v.accountId);
  if (v.role === 'seller') return attempts.map((a) => (v.seesBuyerDetails ? a : pick(a, ['attemptNo', 'startedAt', 'endedAt', 'status', 'cause'])));
  return [];
}

export interface BillingRow {
  converted: boolean;
  duplicate: boolean;
  reason: string | null;
  buyerChargeCents: number;
  sellerPayoutCents: number;
  billedAt: string;
}

/**
 * A call's billing: the winner sees its charge, the seller its payout (and the charge with buyer details); a
 * buyer that did not win sees none (null).
 */
export function projectBilling(billing: BillingRow | null, v: Viewer, winnerBuyerId: string | null | undefined): Partial<BillingRow> | null {
  if (!billing || isOperator(v)) return billing;
  const base = pick(billing, ['converted', 'duplicate', 'reason', 'billedAt']);
  if (v.role === 'buyer') return winnerBuyerId != null && winnerBuyerId === v.accountId ? { ...base, buyerChargeCents: billing.buyerChargeCents } : null;
  if (v.role === 'seller') return { ...base, sellerPayoutCents: billing.sellerPayoutCents, ...(v.seesBuyerDetails ? { buyerChargeCents: billing.buyerChargeCents } : {}) };
  return null;
}

export interface PostingRow {
  kind: string;
  accountId: string;
  amountCents: number;
  createdAt: string;
}

/** Ledger postings of a call: a seller or buyer sees those on its own account only. */
export function projectPostings(postings: readonly PostingRow[], v: Viewer): PostingRow[] {
  return isOperator(v) ? [...postings] : postings.filter((p) => p.accountId === v.accountId);
}

/** The decision trace (every buyer's bid) and fraud scores: operators only. */
export const seesTrace = (v: Viewer): boolean => isOperator(v);

// ---- reports ---------------------------------------------------------------------------------------------------

export type ReportGroup = 'campaign' | 'seller' | 'buyer';

/** Whether the viewer may group a report by this key (grouping sellers by buyer names the buyers). */
export function mayGroupReportBy(group: ReportGroup, v: Viewer): boolean {
  return group !== 'buyer' || v.role !== 'seller' || v.seesBuyerDetails === true;
}

export interface ReportRow {
  calls: number;
  bridged: number;
  conversions: number;
  revenueCents: number;
  payoutCents: number;
}

/**
 * Report money: operators see revenue, payout and the margin; a buyer its spend (revenue) only; a seller its
 * payout, and revenue only with buyer details.
 */
export function projectReportMoney<T extends ReportRow>(row: T, v: Viewer): Partial<T> & { marginCents?: number } {
  if (isOperator(v)) return { ...row, marginCents: row.revenueCents - row.payoutCents };
  const { revenueCents, payoutCents, ...rest } = row;
  if (v.role === 'buyer') return { ...rest, revenueCents } as Partial<T>;
  return { ...rest, payoutCents, ...(v.seesBuyerDetails ? { revenueCents } : {}) } as Partial<T>;
}

// ---- live events -----------------------------------------------------------------------------------------------

/** A call event as one viewer receives it (an allow-listed part of a CallEvent). */
export type VisibleEvent = { type: CallEvent['type']; callId: string; at: string } & Record<string, unknown>;

/** Fields of each event type any party to the call sees (the buyer side is added per viewer). */
const EVENT_FACTS: { [T in CallEvent['type']]: readonly string[] } = {
  'call.started': ['type', 'callId', 'at', 'direction', 'ani', 'dnis', 'switchName'],
  'call.decided': ['type', 'callId', 'at', 'campaignId', 'sellerAccountId', 'outcome', 'rejectReason', 'screeningReasons'],
  'call.attempt': ['type', 'callId', 'at', 'attemptNo', 'status', 'cause', 'sellerAccountId'],
  'call.bridged': ['type', 'callId', 'at', 'sellerAccountId'],
  'call.ended': ['type', 'callId', 'at', 'outcome', 'endReason', 'durationSec', 'billableSec', 'hangupCause', 'sellerAccountId', 'endIsLowerBound'],
};
const EVENT_BUYER_SIDE: { [T in CallEvent['type']]: readonly string[] } = {
  'call.started': [],
  'call.decided': ['winnerTargetId', 'winnerBuyerId', 'priceCents'],
  'call.attempt': ['targetId', 'buyerAccountId'],
  'call.bridged': ['targetId', 'buyerAccountId', 'priceCents'],
  'call.ended': ['buyerAccountId', 'priceCents'],
};

/** The buyer an event is about, if any (call.decided: the first-ranked buyer, offered the call first). */
function eventBuyer(e: CallEvent): string | undefined {
  if (e.type === 'call.decided') return e.winnerBuyerId;
  if (e.type === 'call.attempt' || e.type === 'call.bridged' || e.type === 'call.ended') return e.buyerAccountId;
  return undefined;
}

/**
 * The event as the viewer may receive it, or undefined when it must not receive it at all: a buyer gets no
 * other buyer's attempt or bridge, and no call's start (nobody is offered the call yet). Which calls reach a
 * seller or buyer at all is the live layer's audience (its calls, the calls offered to it); this decides what
 * of each event they see.
 */
export function projectEvent(e: CallEvent, v: Viewer): VisibleEvent | undefined {
  if (isOperator(v)) return e;
  const buyer = eventBuyer(e);
  if (v.role === 'buyer') {
    if (e.type === 'call.started') return undefined;
    if ((e.type === 'call.attempt' || e.type === 'call.bridged') && buyer !== v.accountId) return undefined;
  }
  if (v.role !== 'buyer' && v.role !== 'seller') return undefined;
  const shown = seesBuyerSide(v, buyer);
  return pick(e, shown ? [...EVENT_FACTS[e.type], ...EVENT_BUYER_SIDE[e.type]] : EVENT_FACTS[e.type]) as VisibleEvent;
}

// ---- webhooks --------------------------------------------------------------------------------------------------

/**
 * A call as a webhook carries it to one receiving account: the same projection as the call's REST resource (a
 * buyer sees its own price and never the seller's side of the money, a seller the buyer side only with
 * `seesBuyerDetails`), `callId` for `id`, and hidden or unknown fields left out. The row has the resource's
 * camelCase field names.
 */
export function projectWebhookCall(row: CallRowView, v: Viewer): Record<string, unknown> {
  const projected = projectCallRow(row, v);
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(projected)) {
    if (value === null || value === undefined) continue;
    out[k === 'id' ? 'callId' : k] = value;
  }
  return out;
}
