/**
 * Money end to end: calls through the FreeSWITCH peer into a real node; the node's recorder enqueues each ended
 * call, its billing worker settles it, and the buyer's new funds reach the router, so a buyer that can no longer
 * pay its bid stops winning on the next call.
 */
import type { ExchangeNode } from '../../app/exchange-node';
import { createTestInfra, eventually, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { FreeSwitchHarness } from './freeswitch-harness';

let infra: TestInfra;
let harness: FreeSwitchHarness;
let node: ExchangeNode;
const DID = '+18885550420';
const POOR = '+15551230021';
const RICH = '+15551230022';

beforeAll(async () => {
  infra = await createTestInfra('e2e_billing');
  await seedAccount(infra.pool, { id: 'seller', kind: 'seller', balanceCents: 0 });
  await seedAccount(infra.pool, { id: 'poor', kind: 'buyer', balanceCents: 3000 });
  await seedAccount(infra.pool, { id: 'rich', kind: 'buyer', balanceCents: 1_000_000 });
  await seedCampaign(infra.pool, { id: 'money', sellerId: 'seller', dids: [DID], routing: 'second_price', floorCents: 100, payoutCents: 1200 });
  await seedTarget(infra.pool, { id: 'poor-t', buyerId: 'poor', campaignId: 'money', bidCents: 2500, destination: POOR, convertOnSeconds: 0 });
  await seedTarget(infra.pool, { id: 'rich-t', buyerId: 'rich', campaignId: 'money', bidCents: 2000, destination: RICH, convertOnSeconds: 0 });
  harness = new FreeSwitchHarness();
  node = await harness.start(infra);
  harness.setBuyer(POOR, { kind: 'answer', afterMs: 10 });
  harness.setBuyer(RICH, { kind: 'answer', afterMs: 10 });
});

afterAll(async () => {
  await harness?.stop();
  await infra?.cleanup();
});

const settled = (ani: string) =>
  eventually(async () => {
    await node.recorder!.drain();
    const { rows } = await infra.pool.query('SELECT c.id, b.reason FROM calls c JOIN call_billing b ON b.call_id = c.id WHERE c.ani = $1', [ani]);
    return rows[0] as { id: string; reason: string } | undefined;
  }, `the call from ${ani} to be billed`, 10_000);

it('a buyer whose funds no longer cover its bid stops winning once its last call is billed', async () => {
  const first = await harness.placeCall({ ani: '+18135554001', dnis: DID, hangupAfterBridgeMs: 50 }).finished;
  expect(first.bridgedTo).toContain(POOR);
  const billedFirst = await settled('+18135554001');
  expect(billedFirst.reason).toBe('converted');
  // second price: the poor buyer paid the rich one's bid, 2000 of its 3000
  const poor = (await infra.pool.query("SELECT balance_cents::int AS b FROM accounts WHERE id = 'poor'")).rows[0].b;
  expect(poor).toBe(1000);

  const second = await harness.placeCall({ ani: '+18135554002', dnis: DID, hangupAfterBridgeMs: 50 }).finished;
  expect(second.bridgeTargets).toEqual([expect.stringContaining(RICH)]);
  const { id } = await settled('+18135554002');
  const trace = (await infra.pool.query('SELECT trace FROM call_decisions WHERE call_id = $1', [id])).rows[0].trace;
  const i = trace.excluded.targetId.indexOf('poor-t');
  expect(trace.excluded.reason[i]).toBe('insufficient_funds');
  expect(trace.excluded.detail[i]).toBe('available 1000 < bid 2500');
  expect(trace.winnerTargetId).toBe('rich-t');
});
