/**
 * What the console says about calls and money, as pure functions (no DOM, no clock): dollars, durations, the
 * state of a call (from its record or from its live events), and its decision trace in plain words.
 * Table-tested in test/dashboard/format.test.ts.
 */

/** A call as the API lists it (camelCase, money in integer cents). */
export interface CallView {
  id: string;
  ani: string;
  dnis: string;
  campaignId?: string | null;
  outcome?: string | null;
  rejectReason?: string | null;
  winnerBuyerId?: string | null;
  winnerTargetId?: string | null;
  priceCents?: number | null;
  startedAt: string;
  decidedAt?: string | null;
  bridgedAt?: string | null;
  endedAt?: string | null;
  durationSec?: number | null;
  billableSec?: number | null;
}

export interface AttemptView {
  attemptNo: number;
  targetId?: string;
  buyerId?: string;
  status: string;
  cause?: string | null;
}

export interface BillingView {
  converted: boolean;
  duplicate?: boolean;
  reason?: string | null;
  buyerChargeCents?: number;
  sellerPayoutCents?: number;
}

export interface PostingView {
  kind: string;
  accountId: string;
  amountCents: number;
}

/** A call with what GET /v1/calls/:id adds. */
export interface CallDetail extends CallView {
  attempts?: AttemptView[];
  billing?: BillingView | null;
  postings?: PostingView[];
  trace?: TraceView | null;
}

export interface TraceView {
  outcome: string;
  rejectReason?: string;
  rejectDetail?: string;
  screening?: { pass: boolean; checks?: Array<{ rule: string; pass: boolean; reason?: string; detail?: string }> };
  ranked: { targetId: string[]; buyerAccountId: string[]; bidCents: number[]; score: number[]; priceCents: number[]; status: string[]; reason: Array<string | null> };
  excluded: { targetId: string[]; buyerAccountId: string[]; bidCents: number[]; reason: string[]; detail: Array<string | null> };
}

/** $12.50, $1,234.00; '' when there is no amount. Cents are integers: no float rounding reaches the text. */
export function dollars(cents: number | null | undefined): string {
  if (cents === null || cents === undefined || !Number.isFinite(cents)) return '';
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}$${whole}.${String(abs % 100).padStart(2, '0')}`;
}

export const seconds = (s: number | null | undefined): string => (s === null || s === undefined ? '' : `${s} s`);

/** Words for the API's codes (reject reasons, attempt statuses, billing reasons); unknown codes lose their underscores. */
const WORDS: Record<string, string> = {
  no_eligible_buyer: 'no buyer took it',
  no_campaign: 'no campaign on this number',
  screened_out: 'refused by screening',
  schedule_closed: 'outside its schedule',
  campaign_inactive: 'campaign paused',
  blocked_caller: 'caller blocked',
  caller_gone: 'caller hung up',
  dnc_global: 'on the platform DNC list',
  dnc_registry: 'on the national DNC registry',
  dnc_campaign: "on the campaign's DNC list",
  dnc_seller: "on the seller's DNC list",
  duplicate: 'repeat caller',
  outside_calling_hours: 'outside calling hours',
  no_consent: 'no consent on record',
  below_floor: 'bid below the floor',
  outranked: 'outranked',
  cap_reached: 'cap reached',
  insufficient_funds: 'not enough funds',
  cap_concurrency: 'concurrent-call cap reached',
  cap_hourly: 'hourly cap reached',
  cap_daily: 'daily cap reached',
  cap_monthly: 'monthly cap reached',
  converted: 'converted',
  below_threshold: 'too short to convert',
  no_buyer_answered: 'no buyer answered',
  abandoned: 'caller hung up',
};
/**
 * A trace detail with its amounts in dollars: the exchange writes cents ("available 500 < bid 2200", "bid 900 <
 * floor 1000"); the console says "available $5.00 < bid $22.00".
 */
export const detailWords = (detail: string | null | undefined): string =>
  (detail ?? '').replace(/\b(available|bid|floor|price|balance)\s+(-?\d+)\b/g, (_m, what: string, cents: string) => `${what} ${dollars(Number(cents))}`);

export const words = (code: string | null | undefined): string => (code ? (WORDS[code] ?? code.replace(/_/g, ' ')) : '');

/** What a buyer did with the call offered to it, from its attempt's status. */
export function attemptWords(status: string): string {
  switch (status) {
    case 'bridged': return 'answered';
    case 'busy': return 'refused (busy)';
    case 'no_answer': return 'no answer';
    case 'failed': return 'could not be reached';
    case 'switch_fault': return 'not rung (the switch refused the leg)';
    case 'cap_reached': return 'skipped: cap reached';
    case 'insufficient_funds': return 'skipped: not enough funds';
    case 'bid_expired': return 'skipped: its real-time bid had expired';
    default: return words(status);
  }
}

export type CallStateKind = 'screening' | 'ringing' | 'talking' | 'in_progress' | 'rejected' | 'no_buyer' | 'abandoned' | 'failed' | 'completed' | 'converted' | 'paid';

export interface CallState {
  kind: CallStateKind;
  /** what the status cell says */
  label: string;
  /** the buyer to show: the one ringing, talking or that answered; '' when none (never the text "null") */
  buyer: string;
  /** what the buyer pays, when the viewer sees it */
  priceCents?: number;
  live: boolean;
}

/**
 * The state of a recorded call. While it is up, the record's winner is only the buyer offered the call first: the
 * buyer talking is the one whose attempt was bridged (the detail's attempts), so a listed call without them says
 * "in progress" and no buyer. Once ended, the record's buyer is the one that answered; billing says whether it
 * converted, and ledger postings that it was paid.
 */
export function stateOfCall(c: CallDetail): CallState {
  const price = c.priceCents ?? undefined;
  if (!c.endedAt) {
    if (!c.decidedAt) return { kind: 'screening', label: 'screening', buyer: '', live: true };
    if (!c.attempts) return { kind: 'in_progress', label: 'in progress', buyer: '', live: true };
    const answered = c.attempts.find((a) => a.status === 'bridged');
    if (answered || c.bridgedAt) {
      const buyer = answered?.buyerId ?? '';
      return { kind: 'talking', label: buyer ? `talking with ${buyer}` : 'talking', buyer, priceCents: price, live: true };
    }
    // No attempt recorded yet: the buyer ranked first is being rung. After a refusal, the next one (not named in the record).
    if (c.attempts.length === 0 && c.winnerBuyerId) return { kind: 'ringing', label: `ringing ${c.winnerBuyerId}`, buyer: c.winnerBuyerId, live: true };
    return { kind: 'ringing', label: 'ringing the next buyer', buyer: '', live: true };
  }
  switch (c.outcome) {
    case 'bridged': {
      const buyer = c.winnerBuyerId ?? '';
      if (c.billing?.converted) {
        const paid = (c.postings ?? []).length > 0;
        return { kind: paid ? 'paid' : 'converted', label: paid ? 'paid' : 'converted', buyer, priceCents: price, live: false };
      }
      return { kind: 'completed', label: c.billing ? `completed (${words(c.billing.reason) || 'not converted'})` : 'completed', buyer, priceCents: price, live: false };
    }
    case 'rejected':
      return { kind: 'rejected', label: `rejected: ${words(c.rejectReason) || 'refused'}`, buyer: '', live: false };
    case 'no_buyer_answered':
      return { kind: 'no_buyer', label: 'no buyer answered', buyer: '', live: false };
    case 'abandoned':
      return { kind: 'abandoned', label: 'caller hung up', buyer: '', live: false };
    default:
      return { kind: 'failed', label: words(c.outcome) || 'ended', buyer: '', live: false };
  }
}

/** A live call event as the console receives it (cut to what the viewer may see). */
export type LiveEvent =
  | { type: 'call.started'; callId: string; at: string; ani: string; dnis: string }
  | { type: 'call.decided'; callId: string; at: string; campaignId?: string; outcome: 'route' | 'reject'; rejectReason?: string; screeningReasons?: string[]; winnerBuyerId?: string; priceCents?: number }
  | { type: 'call.attempt'; callId: string; at: string; attemptNo: number; buyerAccountId?: string; status: string }
  | { type: 'call.bridged'; callId: string; at: string; buyerAccountId?: string; priceCents?: number }
  | { type: 'call.ended'; callId: string; at: string; outcome: string; durationSec: number; priceCents?: number; buyerAccountId?: string };

/** A row of the live table. */
export interface LiveRow {
  id: string;
  startedAt: string;
  ani: string;
  dnis: string;
  campaignId: string;
  state: CallState;
  durationSec?: number;
}

/** The row after one live event: ringing which buyer, talking with which, then how it ended. Pure. */
export function applyEvent(row: LiveRow, e: LiveEvent): LiveRow {
  const s = row.state;
  switch (e.type) {
    case 'call.started':
      return row;
    case 'call.decided':
      if (e.outcome !== 'route') {
        const why = [words(e.rejectReason), ...(e.screeningReasons ?? []).map(words)].filter(Boolean);
        return { ...row, campaignId: e.campaignId ?? row.campaignId, state: { kind: 'rejected', label: `rejected: ${why[0] ?? 'refused'}${why.length > 1 ? ` (${why.slice(1).join(', ')})` : ''}`, buyer: '', live: true } };
      }
      return { ...row, campaignId: e.campaignId ?? row.campaignId, state: e.winnerBuyerId ? { kind: 'ringing', label: `ringing ${e.winnerBuyerId}`, buyer: e.winnerBuyerId, live: true } : { kind: 'ringing', label: 'ringing a buyer', buyer: '', live: true } };
    case 'call.attempt':
      if (e.status === 'bridged') return row; // call.bridged follows with the price
      return { ...row, state: { kind: 'ringing', label: `${e.buyerAccountId ? `${e.buyerAccountId} ` : ''}${attemptWords(e.status)}; ringing the next buyer`, buyer: '', live: true } };
    case 'call.bridged':
      return { ...row, state: { kind: 'talking', label: e.buyerAccountId ? `talking with ${e.buyerAccountId}` : 'talking', buyer: e.buyerAccountId ?? '', priceCents: e.priceCents ?? s.priceCents, live: true } };
    case 'call.ended': {
      const buyer = e.buyerAccountId ?? (s.kind === 'talking' ? s.buyer : '');
      const priceCents = e.priceCents ?? s.priceCents;
      let state: CallState;
      if (e.outcome === 'bridged') state = { kind: 'completed', label: 'completed', buyer, priceCents, live: false };
      else if (s.kind === 'rejected') state = { ...s, live: false }; // keeps the reason it was refused for
      else state = { ...stateOfCall({ id: row.id, ani: row.ani, dnis: row.dnis, startedAt: row.startedAt, endedAt: e.at, outcome: e.outcome }), live: false };
      return { ...row, durationSec: e.durationSec, state };
    }
    default:
      return row;
  }
}

/** One line of a call's decision trace in words, with the buyer it is about (for the table). */
export interface TraceLine {
  rank: number;
  targetId: string;
  buyer: string;
  bid: string;
  /** the bid times the target's quality: what the auction ranks on */
  rankedOn: string;
  price: string;
  result: string;
}

/**
 * The ranked buyers of a call in words. The auction's winner is only the buyer offered the call first: what
 * happened is in the attempts ("offered to X: refused (busy)", "answered by Y"), so the trace never calls a
 * buyer that refused the winner.
 */
export function traceLines(c: CallDetail): TraceLine[] {
  const t = c.trace;
  if (!t) return [];
  const attempts = c.attempts ?? [];
  const answered = attempts.find((a) => a.status === 'bridged');
  const answeredRank = answered ? t.ranked.targetId.indexOf(answered.targetId ?? '') : -1;
  return t.ranked.targetId.map((targetId, i) => {
    const buyer = t.ranked.buyerAccountId[i] ?? '';
    const attempt = attempts.find((a) => a.targetId === targetId);
    let result: string;
    if (attempt?.status === 'bridged') result = `answered by ${buyer}`;
    else if (attempt) result = `offered to ${buyer}: ${attemptWords(attempt.status)}`;
    else if (t.ranked.status[i] === 'cap_reached' || t.ranked.status[i] === 'insufficient_funds') result = `skipped: ${words(t.ranked.reason[i] ?? t.ranked.status[i])}`;
    else if (answeredRank >= 0 && i > answeredRank) result = 'not rung: a buyer ranked higher answered';
    else if (c.endedAt && !answered && i === 0 && attempts.length === 0) result = 'not rung: the caller left first';
    else if (!c.endedAt) result = i === 0 && attempts.length === 0 ? `ringing ${buyer}` : 'waiting';
    else result = 'not rung';
    return { rank: i + 1, targetId, buyer, bid: dollars(t.ranked.bidCents[i]), rankedOn: dollars(t.ranked.score[i]), price: dollars(t.ranked.priceCents[i]), result };
  });
}

/** The one-line summary of a call: numbers, state, who answered at what price, how long. */
export function traceSummary(c: CallDetail): string {
  const s = stateOfCall(c);
  const parts = [`${c.ani} → ${c.dnis}`, s.label];
  if (s.buyer && !s.live) parts.push(`answered by ${s.buyer}${s.priceCents !== undefined ? ` at ${dollars(s.priceCents)}` : ''}`);
  if (c.durationSec !== null && c.durationSec !== undefined) parts.push(`${c.durationSec} s`);
  return parts.join(' · ');
}

/** The billing of a call in words, with the ledger's amounts. */
export function billingWords(c: CallDetail): string {
  const b = c.billing;
  if (!b) return c.endedAt && c.outcome === 'bridged' ? 'Not billed yet.' : '';
  if (!b.converted) return `Not converted: ${words(b.reason) || 'no charge'}.`;
  const parts: string[] = [];
  if (b.buyerChargeCents !== undefined) parts.push(`buyer charged ${dollars(b.buyerChargeCents)}`);
  if (b.sellerPayoutCents !== undefined) parts.push(`seller paid ${dollars(b.sellerPayoutCents)}`);
  if (b.buyerChargeCents !== undefined && b.sellerPayoutCents !== undefined) parts.push(`margin ${dollars(b.buyerChargeCents - b.sellerPayoutCents)}`);
  return `Converted: ${parts.join(', ')}.`;
}

/** Report figures summed per key and per bucket from the same rows: the cards and the chart agree by construction. */
export interface ReportRowView {
  bucket: string;
  key: string;
  calls: number;
  bridged: number;
  conversions: number;
  revenueCents: number;
  payoutCents: number;
  marginCents: number;
}

export type Totals = Omit<ReportRowView, 'bucket' | 'key'>;
const zero = (): Totals => ({ calls: 0, bridged: 0, conversions: 0, revenueCents: 0, payoutCents: 0, marginCents: 0 });
function add(into: Totals, r: Totals): void {
  into.calls += r.calls;
  into.bridged += r.bridged;
  into.conversions += r.conversions;
  into.revenueCents += r.revenueCents;
  into.payoutCents += r.payoutCents;
  into.marginCents += r.marginCents;
}

export function sumBy(rows: readonly ReportRowView[], by: 'key' | 'bucket'): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const r of rows) {
    const k = r[by];
    let t = out.get(k);
    if (!t) out.set(k, (t = zero()));
    add(t, r);
  }
  return out;
}

export function total(rows: readonly ReportRowView[]): Totals {
  const t = zero();
  for (const r of rows) add(t, r);
  return t;
}
