import type { ExchangeNode } from '../../app/exchange-node';
import { createTestInfra, type TestInfra } from '../support/infra';
import { seedAccount, seedCampaign, seedTarget } from '../support/seed';
import { ScriptedLeg } from '../support/scripted-leg';
import { startTestNode } from '../support/node';

/** callx_active_calls: the calls in progress on the node, as a scrape sees them (read at the scrape, not kept per call). */
let infra: TestInfra;
let node: ExchangeNode;

beforeAll(async () => {
  infra = await createTestInfra('active_calls');
  await seedAccount(infra.pool, { id: 's', kind: 'seller' });
  await seedAccount(infra.pool, { id: 'b', kind: 'buyer' });
  await seedCampaign(infra.pool, { id: 'c', sellerId: 's', dids: ['+18885550300'] });
  await seedTarget(infra.pool, { id: 't', buyerId: 'b', campaignId: 'c', bidCents: 1000 });
  node = await startTestNode(infra);
});

afterAll(async () => {
  await node?.stop();
  await infra?.cleanup();
});

const activeCalls = async (): Promise<number> => {
  const text = await node.metrics.registry.metrics();
  return Number(/^callx_active_calls (\d+)$/m.exec(text)?.[1]);
};

it('counts the calls in progress while they talk, and none once they ended', async () => {
  expect(await activeCalls()).toBe(0);
  const legs = Array.from({ length: 3 }, (_, i) => new ScriptedLeg(`active-${i}`, () => ({ kind: 'hold' })));
  const runs = legs.map((leg, i) => node.flow.run(leg, { switchCallId: leg.id, switchName: 'test', ani: `+1813555${2000 + i}`, dnis: '+18885550300', direction: 'inbound' }));
  const deadline = Date.now() + 10_000;
  while (legs.some((l) => l.bridged.length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(legs.every((l) => l.bridged.length === 1)).toBe(true);
  expect(await activeCalls()).toBe(3);
  legs[0]!.hangupByCaller();
  await runs[0];
  expect(await activeCalls()).toBe(2);
  for (const l of legs.slice(1)) l.hangupByCaller();
  await Promise.all(runs);
  expect(await activeCalls()).toBe(0);
});
