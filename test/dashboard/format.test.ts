/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * What the console says about calls and money (app/dashboard/format.ts), table-tested: the display bugs of issue 16
 * (a "null" buyer, the auction winner shown as the buyer on the line, "won by" a buyer that refused, ended calls
 * left "bridged", raw cents and scores) each have a row here.
 */
import { applyEvent, attemptWords, detailWords, dollars, stateOfCall, sumBy, total, traceLines, traceSummary, type CallDetail, type LiveRow, type ReportRowView } from '../../app/dashboard/format';
import { pageOf, resource } from '../../app/dashboard/api';

describe('dollars', () => {
  it.each<[number | null | undefined, string]>([
    [1250, '$12.50'], [0, '$0.00'], [5, '$0.05'], [100_000_00, '$100,000.00'], [-350, '-$3.50'], [null, ''], [undefined, ''],
  ])('%p cents is %p', (cents, text) => expect(dollars(cents)).toBe(text));
});

describe('what a buyer did with the call offered to it', () => {
  it.each<[string, string]>([
    ['bridged', 'answered'], ['busy', 'refused (busy)'], ['cap_reached', 'skipped: cap reached'],
    ['insufficient_funds', 'skipped: not enough funds'], ['bid_expired', 'skipped: its real-time bid had expired'],
    ['some_new_status', 'some new status'],
  ])('%p reads %p', (status, text) => expect(attemptWords(status)).toBe(text));
});

const call = (over: Partial<CallDetail>): CallDetail => ({ id: 'c1', ani: '+18135550001', dnis: '+18885550100', startedAt: '2026-12-07T10:00:00Z', ...over });
const decided = { decidedAt: '2026-12-07T10:00:01Z', campaignId: 'solar', winnerBuyerId: 'acme', winnerTargetId: 'acme-t', priceCents: 1000 };

describe('the state of a recorded call', () => {
  it.each<[string, Partial<CallDetail>, { kind: string; label: string; buyer: string }]>([
    ['rejected: no buyer, never "null"', { outcome: 'rejected', rejectReason: 'dnc_global', endedAt: '2026-12-07T10:00:02Z', winnerBuyerId: null }, { kind: 'rejected', label: 'rejected: on the platform DNC list', buyer: '' }],
    ['listed while up: not the auction winner', { ...decided, bridgedAt: '2026-12-07T10:00:05Z' }, { kind: 'in_progress', label: 'in progress', buyer: '' }],
    ['up, the first buyer refused and the second answered', { ...decided, bridgedAt: '2026-12-07T10:00:05Z', attempts: [{ attemptNo: 1, buyerId: 'acme', targetId: 'acme-t', status: 'busy' }, { attemptNo: 2, buyerId: 'zenith', targetId: 'zen-t', status: 'bridged' }] }, { kind: 'talking', label: 'talking with zenith', buyer: 'zenith' }],
    ['up, nobody tried yet: the first buyer rings', { ...decided, attempts: [] }, { kind: 'ringing', label: 'ringing acme', buyer: 'acme' }],
    ['up, the first buyer refused: the next rings', { ...decided, attempts: [{ attemptNo: 1, buyerId: 'acme', status: 'no_answer' }] }, { kind: 'ringing', label: 'ringing the next buyer', buyer: '' }],
    ['ended, not billed yet', { ...decided, outcome: 'bridged', endedAt: '2026-12-07T10:01:00Z' }, { kind: 'completed', label: 'completed', buyer: 'acme' }],
    ['ended, too short to convert', { ...decided, outcome: 'bridged', endedAt: '2026-12-07T10:01:00Z', billing: { converted: false, reason: 'below_threshold' } }, { kind: 'completed', label: 'completed (too short to convert)', buyer: 'acme' }],
    ['ended, converted, not posted', { ...decided, outcome: 'bridged', endedAt: '2026-12-07T10:01:00Z', billing: { converted: true, buyerChargeCents: 1000 }, postings: [] }, { kind: 'converted', label: 'converted', buyer: 'acme' }],
    ['ended, converted and posted', { ...decided, outcome: 'bridged', endedAt: '2026-12-07T10:01:00Z', billing: { converted: true, buyerChargeCents: 1000 }, postings: [{ kind: 'call_charge', accountId: 'acme', amountCents: -1000 }] }, { kind: 'paid', label: 'paid', buyer: 'acme' }],
    ['nobody answered', { ...decided, outcome: 'no_buyer_answered', endedAt: '2026-12-07T10:01:00Z' }, { kind: 'no_buyer', label: 'no buyer answered', buyer: '' }],
  ])('%s', (_name, over, expected) => expect(stateOfCall(call(over))).toMatchObject(expected));
});

describe('a live row through its events', () => {
  const start: LiveRow = { id: 'c1', startedAt: '2026-12-07T10:00:00Z', ani: '+18135550001', dnis: '+18885550100', campaignId: '', state: { kind: 'screening', label: 'screening', buyer: '', live: true } };
  it('rings the first buyer, says it refused, talks with the one that answered, ends completed with its price', () => {
    let r = applyEvent(start, { type: 'call.decided', callId: 'c1', at: '', outcome: 'route', campaignId: 'solar', winnerBuyerId: 'acme', priceCents: 2000 });
    expect([r.campaignId, r.state.label, r.state.buyer]).toEqual(['solar', 'ringing acme', 'acme']);
    r = applyEvent(r, { type: 'call.attempt', callId: 'c1', at: '', attemptNo: 1, buyerAccountId: 'acme', status: 'busy' });
    expect([r.state.label, r.state.buyer]).toEqual(['acme refused (busy); ringing the next buyer', '']);
    r = applyEvent(r, { type: 'call.bridged', callId: 'c1', at: '', buyerAccountId: 'zenith', priceCents: 1500 });
    expect([r.state.label, r.state.buyer, dollars(r.state.priceCents)]).toEqual(['talking with zenith', 'zenith', '$15.00']);
    r = applyEvent(r, { type: 'call.ended', callId: 'c1', at: '', outcome: 'bridged', durationSec: 42 });
    expect([r.state.kind, r.state.live, r.state.buyer, r.state.priceCents, r.durationSec]).toEqual(['completed', false, 'zenith', 1500, 42]);
  });
  it('keeps a rejected call\'s reason through its end', () => {
    let r = applyEvent(start, { type: 'call.decided', callId: 'c1', at: '', outcome: 'reject', rejectReason: 'blocked_caller', screeningReasons: [] });
    r = applyEvent(r, { type: 'call.ended', callId: 'c1', at: '', outcome: 'rejected', durationSec: 0 });
    expect([r.state.label, r.state.buyer, r.state.live]).toEqual(['rejected: caller blocked', '', false]);
  });
});

describe('the trace in words', () => {
  const traced = call({
    ...decided, outcome: 'bridged', endedAt: '2026-12-07T10:01:00Z', winnerBuyerId: 'zenith', priceCents: 1500, durationSec: 55,
    attempts: [{ attemptNo: 1, buyerId: 'acme', targetId: 'acme-t', status: 'busy' }, { attemptNo: 2, buyerId: 'zenith', targetId: 'zen-t', status: 'bridged' }],
    trace: {
      outcome: 'route',
      ranked: { targetId: ['acme-t', 'zen-t', 'low-t'], buyerAccountId: ['acme', 'zenith', 'low'], bidCents: [3000, 2000, 1200], score: [3000, 1800, 1200], priceCents: [2000, 1500, 1000], status: ['won', 'lost', 'lost'], reason: [null, null, null] },
      excluded: { targetId: [], buyerAccountId: [], bidCents: [], reason: [], detail: [] },
    },
  });
  it('never says a buyer that refused won; names who answered; money in dollars, the ranking figure too', () => {
    expect(traceLines(traced).map((l) => [l.buyer, l.bid, l.rankedOn, l.price, l.result])).toEqual([
      ['acme', '$30.00', '$30.00', '$20.00', 'offered to acme: refused (busy)'],
      ['zenith', '$20.00', '$18.00', '$15.00', 'answered by zenith'],
      ['low', '$12.00', '$12.00', '$10.00', 'not rung: a buyer ranked higher answered'],
    ]);
    expect(traceSummary(traced)).toBe('+18135550001 → +18885550100 · completed · answered by zenith at $15.00 · 55 s');
  });
});

describe('trace details', () => {
  it.each([
    ['available 500 < bid 2200', 'available $5.00 < bid $22.00'],
    ['bid 900 < floor 1000', 'bid $9.00 < floor $10.00'],
    ['no answer within 300 ms', 'no answer within 300 ms'],
    [null, ''],
  ])('%p reads %p', (detail, text) => expect(detailWords(detail)).toBe(text));
});

describe('report sums', () => {
  const row = (bucket: string, key: string, calls: number, revenueCents: number): ReportRowView => ({ bucket, key, calls, bridged: calls, conversions: calls, revenueCents, payoutCents: 0, marginCents: revenueCents });
  it('per campaign and per bucket from the same rows add up to the same total', () => {
    const rows = [row('10:00', 'solar', 2, 2000), row('10:01', 'solar', 1, 1050), row('10:01', 'roof', 3, 3105)];
    const byKey = [...sumBy(rows, 'key').values()].reduce((a, t) => a + t.revenueCents, 0);
    const byBucket = [...sumBy(rows, 'bucket').values()].reduce((a, t) => a + t.revenueCents, 0);
    expect([byKey, byBucket, total(rows).revenueCents]).toEqual([6155, 6155, 6155]);
  });
});

describe('reading the API', () => {
  it('reads snake_case rows with money as text as the resource shape, and any list as a page', () => {
    expect(resource({ floor_cents: '1000', seller_account_id: 's', tracking_numbers: [{ created_at: 'x' }] })).toEqual({ floorCents: 1000, sellerAccountId: 's', trackingNumbers: [{ createdAt: 'x' }] });
    expect(pageOf({ calls: [1, 2], next: 'abc' })).toEqual({ items: [1, 2], nextCursor: 'abc' });
    expect(pageOf({ items: [3], nextCursor: null })).toEqual({ items: [3], nextCursor: null });
  });
});
