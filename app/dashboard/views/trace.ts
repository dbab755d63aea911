/**
 * One call's decision trace in plain words: what happened (state, who answered, at what price), the screening
 * rules, every buyer ranked with its bid and what it did with the call, the targets kept out and why, the bridge
 * attempts, and the billing with the ledger's postings. Sellers and buyers see what their role may (no trace).
 */
import { ApiError } from '../api';
import { attemptWords, billingWords, detailWords, dollars, traceLines, traceSummary, words, type CallDetail } from '../format';
import { $, h, scrollTable, table } from '../dom';
import type { Ctx } from './context';

export function renderCall(call: CallDetail): HTMLElement {
  const box = h('div');
  box.append(h('p', { class: 'trace-summary' }, traceSummary(call)));
  const t = call.trace;
  if (t?.screening?.checks?.length) {
    box.append(h('h3', {}, 'Screening'), scrollTable(table(['Rule', 'Result', 'Why'], t.screening.checks.map((c) => [words(c.rule), c.pass ? 'pass' : 'block', [words(c.reason), detailWords(c.detail)].filter(Boolean).join(': ')]), 'trace-screening')));
  }
  if (t && t.outcome === 'reject') box.append(h('p', { class: 'trace-reject' }, `Refused: ${words(t.rejectReason)}${t.rejectDetail ? ` (${detailWords(t.rejectDetail)})` : ''}.`));
  const lines = traceLines(call);
  if (lines.length) {
    box.append(h('h3', {}, 'Buyers, in the order they were offered the call'),
      scrollTable(table(['Rank', 'Target', 'Buyer', 'Bid', 'Ranked on', 'Would pay', 'What happened'], lines.map((l) => [String(l.rank), l.targetId, l.buyer, l.bid, l.rankedOn, l.price, l.result]), 'trace-ranked')));
  }
  const x = t?.excluded;
  if (x?.targetId.length) {
    box.append(h('h3', {}, 'Kept out of the auction'), scrollTable(table(['Target', 'Buyer', 'Bid', 'Why'], x.targetId.map((id, i) => [id, x.buyerAccountId[i] ?? '', dollars(x.bidCents[i]), [words(x.reason[i]), detailWords(x.detail[i])].filter(Boolean).join(': ')]), 'trace-excluded')));
  }
  if (call.attempts?.length) {
    box.append(h('h3', {}, 'Bridge attempts'), scrollTable(table(['Attempt', 'Target', 'Buyer', 'Result'], call.attempts.map((a) => [String(a.attemptNo), a.targetId ?? '', a.buyerId ?? '', attemptWords(a.status)]), 'trace-attempts')));
  }
  const billing = billingWords(call);
  if (billing) box.append(h('p', { class: 'trace-billing' }, billing));
  if (call.postings?.length) {
    box.append(h('h3', {}, 'Ledger postings'), scrollTable(table(['Account', 'Kind', 'Amount'], call.postings.map((p) => [p.accountId, words(p.kind), dollars(p.amountCents)]), 'trace-postings', ['account', 'kind', 'amount'])));
  }
  return box;
}

/** The detail panel: opens on a call, reloads it when asked. */
export class TracePanel {
  selected: string | undefined;

  constructor(private readonly ctx: () => Ctx) {}

  async show(callId: string): Promise<void> {
    this.selected = callId;
    const card = $('#trace-card');
    const out = $('#trace');
    card.hidden = false;
    $('#trace-call').textContent = callId;
    for (const tr of document.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    for (const tr of document.querySelectorAll(`tr[data-call-id="${CSS.escape(callId)}"]`)) tr.classList.add('selected');
    try {
      const call = await this.ctx().api.get<CallDetail>(`/v1/calls/${encodeURIComponent(callId)}`);
      if (this.selected === callId) out.replaceChildren(renderCall(call));
    } catch (err) {
      out.textContent = err instanceof ApiError && err.status === 404 ? 'This call is not recorded yet; it will show once it is.' : `Could not load the call: ${(err as Error).message}`;
    }
    card.scrollIntoView({ block: 'nearest' });
  }
}
