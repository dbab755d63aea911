import type { ExchangeNode } from '../../app/exchange-node';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { TestRtbBuyers } from '../support/rtb-buyers';
import { FreeSwitchHarness } from './freeswitch-harness';

/**
 * Real-time bidding end to end (issue 15): a carrier call through the FreeSWITCH peer (real ESL over TCP) to a
 * campaign whose best buyer prices calls over HTTP. The RTB buyer's bid beats the standing bid; the call is bridged
 * to the destination named in the bid and recorded with the RTB winner and its second price. A slower RTB buyer
 * (past tmax) bidding more never wins.
 */
const DID = '+18885550710';
const RTB_DESTINATION = '+15551230071';
const STANDING_DESTINATION = '+15551230072';
// A campaign whose second RTB bid stands for one second, reached only after the first buyer rang for longer.
const LAPSE_DID = '+18885550711';
const LONG_RING_DESTINATION = '+15551230073';
const BRIEF_DESTINATION = '+15551230074';

describe('freeswitch: a call won by an RTB buyer', () => {
  let infra: TestInfra;
  let node: ExchangeNode;
  let buyers: TestRtbBuyers;
  const harness = new FreeSwitchHarness({ RTB_ALLOW_PRIVATE_ADDRESSES: 'true' }); // the test's buyers are on 127.0.0.1

  beforeAll(async () => {
    infra = await createTestInfra('e2e_rtb');
    buyers = await new TestRtbBuyers().start();
    await seedAccount(infra.pool, { id: 'seller', kind: 'seller' });
    for (const b of ['rtb-buyer', 'late-buyer', 'standing-buyer']) await seedAccount(infra.pool, { id: b, kind: 'buyer' });
    await seedCampaign(infra.pool, { id: 'rtb', sellerId: 'seller', dids: [DID], routing: 'second_price', floorCents: 500, bidDeadlineMs: 150, rtbShare: ['state'] });
    await seedTarget(infra.pool, { id: 'rtb-t', buyerId: 'rtb-buyer', campaignId: 'rtb', bidCents: 0, destination: null, rtbUrl: buyers.url('rtb-t'), answerTimeoutSec: 2 });
    await seedTarget(infra.pool, { id: 'late-t', buyerId: 'late-buyer', campaignId: 'rtb', bidCents: 0, destination: null, rtbUrl: buyers.url('late-t'), answerTimeoutSec: 2 });
    await seedTarget(infra.pool, { id: 'standing-t', buyerId: 'standing-buyer', campaignId: 'rtb', bidCents: 1300, destination: STANDING_DESTINATION, answerTimeoutSec: 2 });
    buyers.script('rtb-t', { delayMs: 10, body: { bidCents: 2500, destination: RTB_DESTINATION, expiresInSeconds: 60 } });
    buyers.script('late-t', { delayMs: 400, body: { bidCents: 9900, destination: STANDING_DESTINATION } });
    for (const b of ['long-ring-buyer', 'brief-buyer']) await seedAccount(infra.pool, { id: b, kind: 'buyer' });
    await seedCampaign(infra.pool, { id: 'lapse', sellerId: 'seller', dids: [LAPSE_DID], routing: 'second_price', floorCents: 500, bidDeadlineMs: 150 });
    await seedTarget(infra.pool, { id: 'long-ring-t', buyerId: 'long-ring-buyer', campaignId: 'lapse', bidCents: 0, destination: null, rtbUrl: buyers.url('long-ring-t'), answerTimeoutSec: 5 });
    await seedTarget(infra.pool, { id: 'brief-t', buyerId: 'brief-buyer', campaignId: 'lapse', bidCents: 0, destination: null, rtbUrl: buyers.url('brief-t'), answerTimeoutSec: 2 });
    await seedTarget(infra.pool, { id: 'standing-l', buyerId: 'standing-buyer', campaignId: 'lapse', bidCents: 1300, destination: STANDING_DESTINATION, answerTimeoutSec: 2 });
    buyers.script('long-ring-t', { delayMs: 5, body: { bidCents: 3000, destination: LONG_RING_DESTINATION, expiresInSeconds: 60 } });
    buyers.script('brief-t', { delayMs: 5, body: { bidCents: 2500, destination: BRIEF_DESTINATION, expiresInSeconds: 1 } });
    node = await harness.start(infra);
    await eventually(async () => node.switches.every((s) => s.isConnected()), 'the switch control connection');
    harness.setBuyer(RTB_DESTINATION, { kind: 'answer', afterMs: 20 });
    harness.setBuyer(STANDING_DESTINATION, { kind: 'answer', afterMs: 20 });
    harness.setBuyer(LONG_RING_DESTINATION, { kind: 'busy', afterMs: 1_300 }); // rings past the brief bid's second
    harness.setBuyer(BRIEF_DESTINATION, { kind: 'answer', afterMs: 20 }); // would answer, were it dialled
  });

  afterAll(async () => {
    await harness?.stop();
    await buyers?.stop();
    await infra?.cleanup();
  });

  it('is bridged to the destination in the RTB bid and recorded with the RTB winner at the second price', async () => {
    const ani = '+13125550171';
    const result = await harness.placeCall({ ani, dnis: DID, hangupAfterBridgeMs: 300 }).finished;
    expect(result.bridgedTo).toContain(RTB_DESTINATION);
    const row = await eventually(async () => {
      await node.recorder!.drain();
      return (await infra.pool.query('SELECT c.*, d.trace FROM calls c JOIN call_decisions d ON d.call_id = c.id WHERE c.ani = $1 AND c.ended_at IS NOT NULL', [ani])).rows[0];
    }, 'the call to be recorded');
    expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'rtb-t', winner_buyer_id: 'rtb-buyer' });
    expect(Number(row.price_cents)).toBe(1300); // second price: the standing bid under it
    const attempts = (await infra.pool.query('SELECT target_id, status FROM bridge_attempts WHERE call_id = $1', [row.id])).rows;
    expect(attempts).toEqual([{ target_id: 'rtb-t', status: 'bridged' }]);
    // The late buyer's 9900 never entered the auction.
    expect(row.trace.ranked.targetId).toEqual(['rtb-t', 'standing-t']);
    const late = row.trace.excluded.targetId.indexOf('late-t');
    expect(row.trace.excluded.reason[late]).toBe('bid_timeout');
    expect(buyers.pings('rtb-t')).toEqual([expect.objectContaining({ campaignId: 'rtb', tmax: 150, call: { states: ['IL'] } })]);
  });

  it('failing over, does not dial a real-time bid that expired meanwhile: the attempt says bid_expired and the next buyer takes the call at its own price', async () => {
    const ani = '+13125550172';
    const result = await harness.placeCall({ ani, dnis: LAPSE_DID, hangupAfterBridgeMs: 300 }).finished;
    expect(result.bridgeTargets.map((t) => (t.includes(LONG_RING_DESTINATION) ? 'long-ring' : t.includes(BRIEF_DESTINATION) ? 'brief' : t.includes(STANDING_DESTINATION) ? 'standing' : t))).toEqual(['long-ring', 'standing']);
    expect(result.bridgedTo).toContain(STANDING_DESTINATION);
    const row = await eventually(async () => {
      await node.recorder!.drain();
      return (await infra.pool.query('SELECT * FROM calls WHERE ani = $1 AND ended_at IS NOT NULL', [ani])).rows[0];
    }, 'the call to be recorded');
    expect(row).toMatchObject({ outcome: 'bridged', winner_target_id: 'standing-l', winner_buyer_id: 'standing-buyer' });
    expect(Number(row.price_cents)).toBe(500); // the last of the ranking pays the floor
    const attempts = (await infra.pool.query('SELECT attempt_no, target_id, status, cause FROM bridge_attempts WHERE call_id = $1 ORDER BY attempt_no', [row.id])).rows;
    expect(attempts).toEqual([
      { attempt_no: 1, target_id: 'long-ring-t', status: 'busy', cause: 'USER_BUSY' },
      { attempt_no: 2, target_id: 'brief-t', status: 'bid_expired', cause: 'bid_expired' },
      { attempt_no: 3, target_id: 'standing-l', status: 'bridged', cause: null },
    ]);
    // The expired bid's buyer holds nothing for the call: its concurrency slot and fund hold were given back.
    expect(await node.caps.concurrentCalls('brief-t', Date.now())).toBe(0);
    expect(await node.fundHolds.heldFor('brief-buyer')).toBe(0);
  });
});
