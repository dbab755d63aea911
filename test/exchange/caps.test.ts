import type { ExchangeNode } from '../../app/exchange-node';
import { traceBuyers } from '../../app/exchange/trace';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { ScriptedLeg } from '../support/scripted-leg';
import { startTestNode } from '../support/node';

/**
 * Caps are global: two exchange nodes share one Redis, and 50 simultaneous calls for a buyer capped at 10
 * concurrent calls must never put an 11th through.
 */
let infra: TestInfra;
let nodes: ExchangeNode[] = [];

beforeAll(async () => {
  infra = await createTestInfra('caps');
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: ['+18885550200'] });
  await seedTarget(infra.pool, { id: 'capped', buyerId: 'b', campaignId: 'c', bidCents: 1000, capConcurrency: 10 });
  await seedCampaign(infra.pool, { id: 'hourly', sellerId: 's', dids: ['+18885550201'] });
  await seedTarget(infra.pool, { id: 'hourly-t', buyerId: 'b', campaignId: 'hourly', bidCents: 1000, capHourly: 3 });
  nodes = [await startTestNode(infra), await startTestNode(infra)];
});

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await infra?.cleanup();
});

it('holds a concurrency cap of 10 under 50 simultaneous calls across two nodes, and frees the slots when calls end', async () => {
  const legs = Array.from({ length: 50 }, (_, i) => new ScriptedLeg(`cap-${i}`, () => ({ kind: 'hold' })));
  let maxSeen = 0;
  const runs = legs.map((leg, i) =>
    nodes[i % 2]!.flow.run(leg, { switchCallId: leg.id, switchName: 'test', ani: `+1813555${String(1000 + i)}`, dnis: '+18885550200', direction: 'inbound' }),
  );
  // Wait until every call is either bridged (holding a slot) or turned away.
  const deadline = Date.now() + 10_000;
  while (legs.filter((l) => l.bridged.length > 0 || l.ended).length < 50 && Date.now() < deadline) {
    maxSeen = Math.max(maxSeen, await nodes[0]!.caps.concurrentCalls('capped', Date.now()));
    await new Promise((r) => setTimeout(r, 10));
  }
  const bridged = legs.filter((l) => l.bridged.length > 0);
  const refused = legs.filter((l) => l.ended && l.bridged.length === 0);
  expect(bridged).toHaveLength(10);
  expect(refused).toHaveLength(40);
  expect(maxSeen).toBeLessThanOrEqual(10);
  expect(await nodes[0]!.caps.concurrentCalls('capped', Date.now())).toBe(10);
  for (const l of refused) expect(l.prompt?.name).toBe('no_buyer_available');

  for (const l of bridged) l.hangupByCaller();
  await Promise.all(runs);
  expect(await nodes[0]!.caps.concurrentCalls('capped', Date.now())).toBe(0);

  for (const n of nodes) await n.recorder!.drain();
  const outcomes = (await infra.pool.query("SELECT outcome, count(*)::int AS n FROM calls WHERE dnis = '+18885550200' GROUP BY outcome ORDER BY outcome")).rows;
  expect(outcomes).toEqual([{ outcome: 'bridged', n: 10 }, { outcome: 'rejected', n: 40 }]);
  const trace = (await infra.pool.query("SELECT d.trace FROM call_decisions d JOIN calls c ON c.id = d.call_id WHERE c.dnis = '+18885550200' AND c.outcome = 'rejected' LIMIT 1")).rows[0].trace;
  expect(trace.rejectReason).toBe('no_eligible_buyer');
  expect(traceBuyers(trace)[0]).toMatchObject({ targetId: 'capped', status: 'cap_reached', reason: 'cap_concurrency' });
});

it('counts an hourly cap across calls and gives the slot back when the bridge fails', async () => {
  const call = async (i: number, kind: 'answer' | 'busy') => {
    const leg = new ScriptedLeg(`h-${i}`, () => (kind === 'busy' ? { kind: 'busy' } : { kind: 'answer', talkMs: 1 }));
    await nodes[0]!.flow.run(leg, { switchCallId: leg.id, switchName: 'test', ani: `+1813556${String(1000 + i)}`, dnis: '+18885550201', direction: 'inbound' });
    return leg;
  };
  expect((await call(1, 'busy')).bridged).toHaveLength(0); // failed bridge: not counted
  for (let i = 2; i <= 4; i++) expect((await call(i, 'answer')).bridged).toHaveLength(1);
  const fourth = await call(5, 'answer');
  expect(fourth.bridged).toHaveLength(0);
  expect(fourth.prompt?.name).toBe('no_buyer_available');
});

it('moves past full buyers beyond the first reservation trip: ten buyers with one slot each take ten calls, the eleventh is refused', async () => {
  await seedCampaign(infra.pool, { id: 'wide', sellerId: 's', dids: ['+18885550202'] });
  for (let i = 1; i <= 10; i++) await seedTarget(infra.pool, { id: `w${String(i).padStart(2, '0')}`, buyerId: 'b', campaignId: 'wide', bidCents: 2000 - i * 10, capConcurrency: 1 });
  for (const n of nodes) await n.snapshots.refreshNow();
  const legs: ScriptedLeg[] = [];
  const runs: Promise<void>[] = [];
  for (let i = 0; i < 11; i++) {
    const leg = new ScriptedLeg(`wide-${i}`, () => ({ kind: 'hold' }));
    legs.push(leg);
    runs.push(nodes[0]!.flow.run(leg, { switchCallId: leg.id, switchName: 'test', ani: `+1813557${String(1000 + i)}`, dnis: '+18885550202', direction: 'inbound' }));
    while (leg.bridged.length === 0 && !leg.ended) await new Promise((r) => setTimeout(r, 5));
  }
  expect(legs.slice(0, 10).map((l) => l.bridged[0])).toEqual(Array.from({ length: 10 }, (_, i) => `sip:w${String(i + 1).padStart(2, '0')}@buyers.example`));
  expect(legs[10]!.bridged).toEqual([]);
  expect(legs[10]!.prompt?.name).toBe('no_buyer_available');
  for (const l of legs) l.hangupByCaller();
  await Promise.all(runs);
  for (let i = 1; i <= 10; i++) expect(await nodes[0]!.caps.concurrentCalls(`w${String(i).padStart(2, '0')}`, Date.now())).toBe(0);
});
