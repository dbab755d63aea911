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
  id: 'c1', direction: 'inbound', ani: '+18135550100', dnis: '+18885550100', campaignId: 'camp', sellerAccountId: 's', outcome: 'bridged',
  rejectReason: null, winnerTargetId: 't2', winnerBuyerId: 'b2', priceCents: 2500, startedAt: 'x', decidedAt: 'x', answeredAt: 'x',
  bridgedAt: 'x', endedAt: 'x', durationSec: 30, billableSec: 25, hangupCause: 'NORMAL_CLEARING', hungUpBy: 'caller', endReason: 'hangup',
  switchName: 'fs', endIsLowerBound: false, someFutureColumn: 'secret',
};
const attempts: AttemptRow[] = [
  { attemptNo: 1, targetId: 't1', buyerId: 'b1', destination: 'sip:b1@h', startedAt: 'x', endedAt: 'x', status: 'noAnswer', cause: 'NO_ANSWER' },
  { attemptNo: 2, targetId: 't2', buyerId: 'b2', destination: 'sip:b2@h', startedAt: 'x', endedAt: 'x', status: 'bridged', cause: null },
];
const billing: BillingRow = { converted: true, duplicate: false, reason: 'converted', buyerChargeCents: 2500, sellerPayoutCents: 1000, billedAt: 'x' };

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
    expect(row.winnerBuyerId).toBe(winnerBuyer);
    expect(row.winnerTargetId).toBe(winnerBuyer ? 't2' : null);
    expect(row.priceCents).toBe(price);
    expect(row.someFutureColumn).toBe(future); // new columns stay hidden from parties until allowed
    expect(row).toMatchObject({ id: 'c1', outcome: 'bridged', billableSec: 25, sellerAccountId: 's', endIsLowerBound: false });
  });

  it('every party sees that a lost call was billed on a lower bound of its end', () => {
    const lost = { ...call, outcome: 'nodeLost', endReason: 'nodeLost', hungUpBy: 'unknown', endIsLowerBound: true };
    for (const v of [admin, winner, loser, seller]) expect(projectCallRow(lost, v)).toMatchObject({ billableSec: 25, endIsLowerBound: true });
    const ended = { type: 'call.ended' as const, callId: 'c1', at: 'x', outcome: 'nodeLost', endReason: 'nodeLost', durationSec: 30, billableSec: 25, hangupCause: 'NORMAL_TEMPORARY_FAILURE', sellerAccountId: 's', endIsLowerBound: true };
    expect(projectEvent(ended, loser)).toMatchObject({ billableSec: 25, endIsLowerBound: true });
  });
});

describe('projectAttempts', () => {
  it.each([
    ['agent', agent, [attempts[0], attempts[1]]],
    ['the winning buyer', winner, [attempts[1]]],
    ['a losing buyer', loser, [attempts[0]]],
    ['the seller', seller, [
      { attemptNo: 1, startedAt: 'x', endedAt: 'x', status: 'noAnswer', cause: 'NO_ANSWER' },
      { attemptNo: 2, startedAt: 'x', endedAt: 'x', status: 'bridged', cause: null },
    ]],
    ['a seller with buyer details', sellerWithDetails, [attempts[0], attempts[1]]],
  ])('%s', (_who, v, expected) => {
    expect(projectAttempts(attempts, v)).toEqual(expected);
  });
});

describe('projectBilling', () => {
  it.each([
    ['admin', admin, billing],
    ['the winning buyer', winner, { converted: true, duplicate: false, reason: 'converted', billedAt: 'x', buyerChargeCents: 2500 }],
    ['a losing buyer', loser, null],
    ['the seller', seller, { converted: true, duplicate: false, reason: 'converted', billedAt: 'x', sellerPayoutCents: 1000 }],
    ['a seller with buyer details', sellerWithDetails, { converted: true, duplicate: false, reason: 'converted', billedAt: 'x', sellerPayoutCents: 1000, buyerChargeCents: 2500 }],
  ])('%s', (_who, v, expected) => {
    expect(projectBilling(billing, v, 'b2')).toEqual(expected);
  });
  it('no billing yet is null for everyone', () => {
    expect(projectBilling(null, winner, 'b2')).toBeNull();
  });
});

it('postings: a party sees those on its own account only', () => {
  const postings = ['b2', 's', 'platform'].map((accountId) => ({ kind: 'callCharge', accountId, amountCents: 1, createdAt: 'x' }));
  expect(projectPostings(postings, agent)).toHaveLength(3);
  expect(projectPostings(postings, winner).map((p) => p.accountId)).toEqual(['b2']);
  expect(projectPostings(postings, loser)).toEqual([]);
  expect(projectPostings(postings, seller).map((p) => p.accountId)).toEqual(['s']);
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
