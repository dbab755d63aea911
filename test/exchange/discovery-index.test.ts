import type { CallInfo } from '../../app/switch/port';
import type { ExchangeNode } from '../../app/exchange-node';
import { traceBuyers } from '../../app/exchange/trace';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { ScriptedLeg } from '../support/scripted-leg';
import { startTestNode } from '../support/node';
import type { Bid } from '../../app/domain/auction';
import type { BidRequest } from '../../app/exchange/bidders';

/**
 * Discovery through the snapshot's index, end to end: calls from different places reach the targets whose
 * geography and open hours admit them, in auction order, and every other target is in the trace with its reason;
 * a call like an earlier one (its ranking shared from the book's cache) is ranked, priced and traced the same.
 */
let infra: TestInfra;
let node: ExchangeNode;
const DID = '+18885550177';
let seq = 0;
/** What the real-time bidder answers (nothing unless a test says). */
let realTime: (req: BidRequest) => Bid[] = () => [];
const rtbBid = (bidCents: number): Bid => ({ targetId: 'rtb-1', buyerAccountId: 'b1', bidCents, qualityScore: 1, priority: 1, weight: 1, destination: 'sip:rtb@buyers.example', answerTimeoutSec: 20, source: 'rtb' });

const inbound = (ani: string, extra: Partial<CallInfo> = {}): CallInfo => ({
  switchCallId: `idx-${++seq}`, switchName: 'test', ani, dnis: DID, direction: 'inbound', ...extra,
});

/** Places a call that the first buyer answers; the call's id, winner, price and trace from the database. */
async function place(info: CallInfo) {
  const leg = new ScriptedLeg(info.switchCallId, () => ({ kind: 'answer', talkMs: 5, hungUpBy: 'caller' }));
  await node.flow.run(leg, info);
  await node.recorder!.drain();
  const call = (await infra.pool.query('SELECT id, winner_target_id, price_cents FROM calls WHERE switch_call_id = $1', [info.switchCallId])).rows[0];
  const trace = (await infra.pool.query('SELECT trace FROM call_decisions WHERE call_id = $1', [call.id])).rows[0].trace;
  const buyers = traceBuyers(trace);
  return {
    winner: call.winner_target_id as string,
    priceCents: Number(call.price_cents),
    ranked: buyers.filter((b) => b.status !== 'excluded').map((b) => `${b.targetId}:${b.status}:${b.priceCents}`),
    excluded: Object.fromEntries(buyers.filter((b) => b.status === 'excluded').map((b) => [b.targetId, b.reason])),
  };
}

beforeAll(async () => {
  infra = await createTestInfra('discovery_index');
  await seedAccount(infra.pool, { id: 'seller1', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b1', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'idx', sellerId: 'seller1', dids: [DID], routing: 'second_price', floorCents: 100 });
  await seedTarget(infra.pool, { id: 'florida', buyerId: 'b1', campaignId: 'idx', bidCents: 3000, targeting: { states: ['FL'] } });
  await seedTarget(infra.pool, { id: 'texas', buyerId: 'b1', campaignId: 'idx', bidCents: 2900, targeting: { states: ['TX'] } });
  await seedTarget(infra.pool, { id: 'not-texas', buyerId: 'b1', campaignId: 'idx', bidCents: 2850, targeting: { excludeStates: ['TX'] } });
  await seedTarget(infra.pool, { id: 'tampa', buyerId: 'b1', campaignId: 'idx', bidCents: 2800, targeting: { areaCodes: ['813'] } });
  await seedTarget(infra.pool, { id: 'downtown', buyerId: 'b1', campaignId: 'idx', bidCents: 2700, targeting: { zips: ['33602'] } });
  // Open on no day at all: closed whenever the test runs.
  await seedTarget(infra.pool, { id: 'never-open', buyerId: 'b1', campaignId: 'idx', bidCents: 2650, schedule: { timeZone: 'America/New_York', hours: {} } });
  await seedTarget(infra.pool, { id: 'bad-zone', buyerId: 'b1', campaignId: 'idx', bidCents: 2640, schedule: { timeZone: 'Mars/Olympus', hours: { 0: [[0, 1440]] } } });
  await seedTarget(infra.pool, { id: 'anyone', buyerId: 'b1', campaignId: 'idx', bidCents: 2000, schedule: { timeZone: 'America/Chicago', hours: Object.fromEntries([0, 1, 2, 3, 4, 5, 6].map((d) => [d, [[0, 1440]]])) } });
  node = await startTestNode(infra, {}, { bidders: [{ name: 'rtb', bid: (req) => realTime(req) }] });
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

describe('discovery through the index', () => {
  it('a Tampa caller with a downtown zip reaches the Florida, Tampa, downtown and open targets, in auction order', async () => {
    const call = await place(inbound('+18135550101', { zip: '33602-1234' }));
    expect(call.winner).toBe('florida');
    expect(call.priceCents).toBe(2850); // second price: what not-texas bid
    expect(call.ranked).toEqual(['florida:won:2850', 'not-texas:lost:2800', 'tampa:lost:2700', 'downtown:lost:2000', 'anyone:lost:100']);
    expect(call.excluded).toEqual({ texas: 'geo_state', 'never-open': 'schedule_closed', 'bad-zone': 'schedule_invalid' });
  });

  it('a Dallas caller without a zip reaches only the Texas and open targets', async () => {
    const call = await place(inbound('+12145550102'));
    expect(call.winner).toBe('texas');
    expect(call.ranked).toEqual(['texas:won:2000', 'anyone:lost:100']);
    expect(call.excluded).toEqual({ florida: 'geo_state', 'not-texas': 'geo_state', tampa: 'geo_area_code', downtown: 'geo_zip', 'never-open': 'schedule_closed', 'bad-zone': 'schedule_invalid' });
  });

  it('a caller from nowhere known reaches only the targets without a state rule that need nothing else', async () => {
    const call = await place(inbound('+18885550103'));
    expect(call.ranked).toEqual(['anyone:won:100']);
    expect(call.excluded).toMatchObject({ florida: 'geo_unknown', texas: 'geo_unknown', 'not-texas': 'geo_unknown', tampa: 'geo_area_code', downtown: 'geo_zip' });
  });

  it('a second call like the first is ranked, priced and traced the same (the ranking is shared, the outcome is its own)', async () => {
    const first = await place(inbound('+18135550104', { zip: '33602' }));
    const again = await place(inbound('+18135550105', { zip: '33602' }));
    expect(again).toEqual(first);
    expect(again.ranked[0]).toBe('florida:won:2850');
  });

  it('real-time bids join the auction and their exclusions are that call\'s own, not the next one\'s', async () => {
    realTime = () => [rtbBid(-5)]; // an invalid bid: excluded with bid_error
    const refused = await place(inbound('+18135550106', { zip: '33602' }));
    expect(refused.excluded).toMatchObject({ texas: 'geo_state', 'rtb-1': 'bid_error' });
    expect(refused.ranked[0]).toBe('florida:won:2850');

    realTime = () => [rtbBid(4000)];
    const outbid = await place(inbound('+18135550107', { zip: '33602' }));
    expect(outbid.ranked.slice(0, 2)).toEqual(['rtb-1:won:3000', 'florida:lost:2850']);
    expect(outbid.excluded).toEqual({ texas: 'geo_state', 'never-open': 'schedule_closed', 'bad-zone': 'schedule_invalid' });

    realTime = () => [];
    const standingOnly = await place(inbound('+18135550108', { zip: '33602' }));
    expect(standingOnly.ranked[0]).toBe('florida:won:2850');
    expect(standingOnly.excluded).toEqual({ texas: 'geo_state', 'never-open': 'schedule_closed', 'bad-zone': 'schedule_invalid' });
  });
});
