import type { CallEvent } from '../../app/exchange/call-events';
import {
  mayGroupReportBy,
  projectAttempts,
  projectBilling,
  projectCallRow,
  projectEvent,
  projectPostings,
  projectReportMoney,
  type AttemptRow,
  type BillingRow,
  type Viewer,
} from '../../app/api/projections';

// b1 was rung first and did not answer; b2 won the call at 2500 cents; s sells it.
const admin: Viewer = { role: 'admin' };
const agent: Viewer = { role: 'agent' };
const winner: Viewer = { role: 'buyer', accountId: 'b2' };
const loser: Viewer = { role: 'buyer', accountId: 'b1' };
const seller: Viewer = { role: 'seller', accountId: 's' };
const sellerWithDetails: Viewer = { role: 'seller', accountId: 's', seesBuyerDetails: true };

const call = {
  id: 'c1', direction: 'inbound', ani: '+18135550100', dnis: '+18885550100', campaign_id: 'camp', seller_account_id: 's', outcome: 'bridged',
  reject_reason: null, winner_target_id: 't2', winner_buyer_id: 'b2', price_cents: 2500, started_at: 'x', decided_at: 'x', answered_at: 'x',
  bridged_at: 'x', ended_at: 'x', duration_sec: 30, billable_sec: 25, hangup_cause: 'NORMAL_CLEARING', hung_up_by: 'caller', end_reason: 'hangup',
  switch_name: 'fs', end_is_lower_bound: false, some_future_column: 'secret',
};
const attempts: AttemptRow[] = [
  { attempt_no: 1, target_id: 't1', buyer_id: 'b1', destination: 'sip:b1@h', started_at: 'x', ended_at: 'x', status: 'no_answer', cause: 'NO_ANSWER' },
  { attempt_no: 2, target_id: 't2', buyer_id: 'b2', destination: 'sip:b2@h', started_at: 'x', ended_at: 'x', status: 'bridged', cause: null },
];
const billing: BillingRow = { converted: true, duplicate: false, reason: 'converted', buyer_charge_cents: 2500, seller_payout_cents: 1000, billed_at: 'x' };

describe('projectCallRow', () => {
  it.each([
    ['admin', admin, 'b2', 2500, 'secret'],
    ['agent', agent, 'b2', 2500, 'secret'],
    ['the winning buyer', winner, 'b2', 2500, undefined],
    ['a losing buyer', loser, null, null, undefined],
    ['the seller', seller, null, null, undefined],
    ['a seller with buyer details', sellerWithDetails, 'b2', 2500, undefined],
  ])('%s', (_who, v, winnerBuyer, price, future) => {
    const row = projectCallRow(call, v);
    expect(row.winner_buyer_id).toBe(winnerBuyer);
    expect(row.winner_target_id).toBe(winnerBuyer ? 't2' : null);
    expect(row.price_cents).toBe(price);
    expect(row.some_future_column).toBe(future); // new columns stay hidden from parties until allowed
    expect(row).toMatchObject({ id: 'c1', outcome: 'bridged', billable_sec: 25, seller_account_id: 's', end_is_lower_bound: false });
  });

  it('every party sees that a lost call was billed on a lower bound of its end', () => {
    const lost = { ...call, outcome: 'node_lost', end_reason: 'node_lost', hung_up_by: 'unknown', end_is_lower_bound: true };
    for (const v of [admin, winner, loser, seller]) expect(projectCallRow(lost, v)).toMatchObject({ billable_sec: 25, end_is_lower_bound: true });
    const ended = { type: 'call.ended' as const, callId: 'c1', at: 'x', outcome: 'node_lost', endReason: 'node_lost', durationSec: 30, billableSec: 25, hangupCause: 'NORMAL_TEMPORARY_FAILURE', sellerAccountId: 's', endIsLowerBound: true };
    expect(projectEvent(ended, loser)).toMatchObject({ billableSec: 25, endIsLowerBound: true });
  });
});

describe('projectAttempts', () => {
  it.each([
    ['agent', agent, [attempts[0], attempts[1]]],
    ['the winning buyer', winner, [attempts[1]]],
    ['a losing buyer', loser, [attempts[0]]],
    ['the seller', seller, [
      { attempt_no: 1, started_at: 'x', ended_at: 'x', status: 'no_answer', cause: 'NO_ANSWER' },
      { attempt_no: 2, started_at: 'x', ended_at: 'x', status: 'bridged', cause: null },
    ]],
    ['a seller with buyer details', sellerWithDetails, [attempts[0], attempts[1]]],
  ])('%s', (_who, v, expected) => {
    expect(projectAttempts(attempts, v)).toEqual(expected);
  });
});

describe('projectBilling', () => {
  it.each([
    ['admin', admin, billing],
    ['the winning buyer', winner, { converted: true, duplicate: false, reason: 'converted', billed_at: 'x', buyer_charge_cents: 2500 }],
    ['a losing buyer', loser, null],
    ['the seller', seller, { converted: true, duplicate: false, reason: 'converted', billed_at: 'x', seller_payout_cents: 1000 }],
    ['a seller with buyer details', sellerWithDetails, { converted: true, duplicate: false, reason: 'converted', billed_at: 'x', seller_payout_cents: 1000, buyer_charge_cents: 2500 }],
  ])('%s', (_who, v, expected) => {
    expect(projectBilling(billing, v, 'b2')).toEqual(expected);
  });
  it('no billing yet is null for everyone', () => {
    expect(projectBilling(null, winner, 'b2')).toBeNull();
  });
});

it('postings: a party sees those on its own account only', () => {
  const postings = ['b2', 's', 'platform'].map((account_id) => ({ kind: 'call_charge', account_id, amount_cents: 1, created_at: 'x' }));
  expect(projectPostings(postings, agent)).toHaveLength(3);
  expect(projectPostings(postings, winner).map((p) => p.account_id)).toEqual(['b2']);
  expect(projectPostings(postings, loser)).toEqual([]);
  expect(projectPostings(postings, seller).map((p) => p.account_id)).toEqual(['s']);
});

describe('reports', () => {
  const row = { calls: 4, bridged: 3, conversions: 2, revenueCents: 4000, payoutCents: 1500 };
  it.each([
    ['agent', agent, { ...row, marginCents: 2500 }],
    ['a buyer', winner, { calls: 4, bridged: 3, conversions: 2, revenueCents: 4000 }],
    ['the seller', seller, { calls: 4, bridged: 3, conversions: 2, payoutCents: 1500 }],
    ['a seller with buyer details', sellerWithDetails, { calls: 4, bridged: 3, conversions: 2, payoutCents: 1500, revenueCents: 4000 }],
  ])('money for %s', (_who, v, expected) => {
    expect(projectReportMoney(row, v)).toEqual(expected);
  });
  it.each([
    ['buyer', seller, false],
    ['buyer', sellerWithDetails, true],
    ['seller', seller, true],
    ['buyer', winner, true],
    ['buyer', agent, true],
  ] as const)('grouping by %s', (group, v, allowed) => {
    expect(mayGroupReportBy(group, v)).toBe(allowed);
  });
});

describe('projectEvent', () => {
  const at = 'x';
  const events: Record<CallEvent['type'], CallEvent> = {
    'call.started': { type: 'call.started', callId: 'c1', at, direction: 'inbound', ani: '+18135550100', dnis: '+18885550100', switchName: 'fs' },
    'call.decided': { type: 'call.decided', callId: 'c1', at, campaignId: 'camp', sellerAccountId: 's', outcome: 'route', screeningReasons: [], winnerTargetId: 't1', winnerBuyerId: 'b1', priceCents: 3000, decisionUs: 800 },
    'call.attempt': { type: 'call.attempt', callId: 'c1', at, attemptNo: 2, targetId: 't2', buyerAccountId: 'b2', status: 'bridged', sellerAccountId: 's' },
    'call.bridged': { type: 'call.bridged', callId: 'c1', at, targetId: 't2', buyerAccountId: 'b2', priceCents: 2500, sellerAccountId: 's' },
    'call.ended': { type: 'call.ended', callId: 'c1', at, outcome: 'bridged', endReason: 'hangup', durationSec: 30, billableSec: 25, hangupCause: 'NORMAL_CLEARING', sellerAccountId: 's', buyerAccountId: 'b2', priceCents: 2500 },
  };
  const buyerSide = ['winnerTargetId', 'winnerBuyerId', 'priceCents', 'targetId', 'buyerAccountId'];
  const shown = (e: object | undefined) => (e === undefined ? 'not sent' : buyerSide.filter((k) => k in e).join(',') || 'facts only');

  it.each([
    // event type, agent, winner b2, loser b1 (first ranked at the decision), seller, seller with details
    ['call.started', 'facts only', 'not sent', 'not sent', 'facts only', 'facts only'],
    ['call.decided', 'winnerTargetId,winnerBuyerId,priceCents', 'facts only', 'winnerTargetId,winnerBuyerId,priceCents', 'facts only', 'winnerTargetId,winnerBuyerId,priceCents'],
    ['call.attempt', 'targetId,buyerAccountId', 'targetId,buyerAccountId', 'not sent', 'facts only', 'targetId,buyerAccountId'],
    ['call.bridged', 'priceCents,targetId,buyerAccountId', 'priceCents,targetId,buyerAccountId', 'not sent', 'facts only', 'priceCents,targetId,buyerAccountId'],
    ['call.ended', 'priceCents,buyerAccountId', 'priceCents,buyerAccountId', 'facts only', 'facts only', 'priceCents,buyerAccountId'],
  ] as const)('%s', (type, forAgent, forWinner, forLoser, forSeller, forSellerWithDetails) => {
    const e = events[type];
    expect(projectEvent(e, agent)).toBe(e);
    expect([winner, loser, seller, sellerWithDetails].map((v) => shown(projectEvent(e, v)))).toEqual([forWinner, forLoser, forSeller, forSellerWithDetails]);
    expect(shown(projectEvent(e, agent))).toBe(forAgent);
  });

  it('keeps the facts of the call and drops the platform internals for parties', () => {
    expect(projectEvent(events['call.decided'], seller)).toEqual({ type: 'call.decided', callId: 'c1', at, campaignId: 'camp', sellerAccountId: 's', outcome: 'route', screeningReasons: [] });
    expect(projectEvent(events['call.ended'], loser)).toEqual({ type: 'call.ended', callId: 'c1', at, outcome: 'bridged', endReason: 'hangup', durationSec: 30, billableSec: 25, hangupCause: 'NORMAL_CLEARING', sellerAccountId: 's' });
  });
});
